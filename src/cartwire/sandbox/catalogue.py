"""A realistic, deterministic sample business: the data `cartwire sandbox seed` loads.

Everything is derived from one integer seed through a private `random.Random`, and products,
customers and orders are generated lazily and independently of one another (product `n` depends
only on the seed and `n`), so 100,000 products stream through in constant memory and the same
seed always yields the same records on every machine.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CURRENCIES = {"EUR": 1.0, "USD": 1.08, "GBP": 0.86}
CHANNELS = {"eu-warehouse": ("EU warehouse", "DE"), "us-warehouse": ("US warehouse", "US")}
MARKETS = {"europe": ("Europe", "EUR"), "usa": ("USA", "USD"), "uk": ("United Kingdom", "GBP")}
COUNTRIES = {"EUR": "DE", "USD": "US", "GBP": "GB"}

PRODUCT_TYPES = {
    "apparel": ("Apparel", ["T-Shirt", "Hoodie", "Jacket", "Polo", "Sweater", "Dress"]),
    "shoes": ("Shoes", ["Sneaker", "Boot", "Sandal", "Loafer", "Runner"]),
    "accessories": ("Accessories", ["Cap", "Scarf", "Belt", "Backpack", "Wallet", "Watch"]),
}
CATEGORIES = {
    "men": ("Men", None),
    "women": ("Women", None),
    "kids": ("Kids", None),
    "men-apparel": ("Men's apparel", "men"),
    "men-shoes": ("Men's shoes", "men"),
    "women-apparel": ("Women's apparel", "women"),
    "women-shoes": ("Women's shoes", "women"),
    "kids-apparel": ("Kids' apparel", "kids"),
    "accessories": ("Accessories", None),
    "sale": ("Sale", None),
}
COLORS = {
    "black": "Schwarz",
    "white": "Weiß",
    "navy": "Marineblau",
    "red": "Rot",
    "green": "Grün",
    "grey": "Grau",
    "sand": "Sand",
}
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
ADJECTIVES = ["Classic", "Urban", "Alpine", "Coastal", "Heritage", "Essential", "Studio", "Trail"]
MATERIALS = ["Cotton", "Linen", "Wool", "Leather", "Canvas", "Denim", "Fleece", "Merino"]
FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ida",
    "Jonas",
    "Karla",
    "Leon",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
]
LAST_NAMES = [
    "Müller",
    "Smith",
    "Schmidt",
    "Jones",
    "Fischer",
    "Brown",
    "Weber",
    "Taylor",
    "Wagner",
    "Wilson",
    "Becker",
    "Evans",
    "Hoffmann",
    "Walker",
    "Koch",
    "Wright",
]
STREETS = ["Hauptstraße", "High Street", "Main Street", "Gartenweg", "Station Road", "Oak Avenue"]
CITIES = {
    "DE": ["Berlin", "Hamburg", "München"],
    "US": ["New York", "Chicago", "Austin"],
    "GB": ["London", "Leeds", "Bristol"],
}
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Variant:
    sku: str
    color: str
    size: str
    prices: dict[str, int]  # currency -> cents
    stock: dict[str, int]  # channel key -> quantity
    image_url: str


@dataclass(frozen=True)
class Product:
    key: str
    product_type: str
    name_en: str
    name_de: str
    description_en: str
    description_de: str
    slug: str
    categories: list[str]
    variants: list[Variant]


@dataclass(frozen=True)
class Address:
    first_name: str
    last_name: str
    street: str
    city: str
    zip_code: str
    country: str
    phone: str
    email: str


@dataclass(frozen=True)
class Customer:
    number: int
    email: str
    first_name: str
    last_name: str
    address: Address


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_cents: int


@dataclass(frozen=True)
class Order:
    number: str
    customer: Customer
    currency: str
    lines: list[OrderLine]
    placed_at: datetime

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_cents for line in self.lines)


class Catalogue:
    """The sample business for one seed; every accessor is pure and repeatable."""

    def __init__(self, seed: int, products: int, customers: int, orders: int) -> None:
        self.seed = seed
        self.product_count = products
        self.customer_count = customers
        self.order_count = orders

    def _rng(self, kind: str, n: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{n}")

    def product(self, n: int) -> Product:
        rng = self._rng("product", n)
        type_key = rng.choice(list(PRODUCT_TYPES))
        noun = rng.choice(PRODUCT_TYPES[type_key][1])
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {noun}"
        key = f"product-{n:06d}"
        base = rng.randrange(999, 19999, 100) - 1
        colors = rng.sample(list(COLORS), k=rng.randint(1, 3))
        variants = []
        for index in range(rng.randint(1, 5)):
            color = colors[index % len(colors)]
            sku = f"SKU-{n:06d}-{index + 1}"
            prices = {cur: round(base * rate / 100) * 100 - 1 for cur, rate in CURRENCIES.items()}
            variants.append(
                Variant(
                    sku=sku,
                    color=color,
                    size=SIZES[(index + n) % len(SIZES)],
                    prices=prices,
                    stock={ch: rng.randint(0, 250) for ch in CHANNELS},
                    image_url=f"https://images.example.com/{key}/{sku}.jpg",
                )
            )
        gender = rng.choice(["men", "women", "kids"])
        category = "accessories" if type_key == "accessories" else f"{gender}-{type_key}"
        if category not in CATEGORIES:  # there is no kids' shoes category
            category = f"{gender}-apparel"
        categories = [category] + (["sale"] if rng.random() < 0.1 else [])
        return Product(
            key=key,
            product_type=type_key,
            name_en=name,
            name_de=f"{name} ({COLORS[colors[0]]})",
            description_en=f"{name}, made of {name.split()[1].lower()}. Item {n}.",
            description_de=f"{name} aus {name.split()[1]}. Artikel {n}.",
            slug=f"{name.lower().replace(' ', '-')}-{n}",
            categories=categories,
            variants=variants,
        )

    def products(self) -> Iterator[Product]:
        return (self.product(n) for n in range(1, self.product_count + 1))

    def customer(self, n: int) -> Customer:
        rng = self._rng("customer", n)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first.lower()}.{_ascii(last).lower()}.{n}@example.com"
        country = rng.choice(list(CITIES))
        address = Address(
            first_name=first,
            last_name=last,
            street=f"{rng.choice(STREETS)} {rng.randint(1, 200)}",
            city=rng.choice(CITIES[country]),
            zip_code=f"{rng.randint(10000, 99999)}",
            country=country,
            phone=f"+{rng.randint(10, 49)} {rng.randint(100000000, 999999999)}",
            email=email,
        )
        return Customer(n, email, first, last, address)

    def customers(self) -> Iterator[Customer]:
        return (self.customer(n) for n in range(1, self.customer_count + 1))

    def order(self, n: int, prefix: str) -> Order:
        """Order `n`; `prefix` keeps commercetools' order history apart from Commerce Layer's."""
        rng = self._rng(f"order-{prefix}", n)
        customer = self.customer(rng.randint(1, max(1, self.customer_count)))
        currency = rng.choice(list(CURRENCIES))
        lines: list[OrderLine] = []
        for _ in range(rng.randint(1, 4)):
            product = self.product(rng.randint(1, max(1, self.product_count)))
            variant = rng.choice(product.variants)
            if any(line.sku == variant.sku for line in lines):
                continue
            lines.append(
                OrderLine(variant.sku, product.name_en, rng.randint(1, 3), variant.prices[currency])
            )
        placed_at = EPOCH + timedelta(minutes=rng.randint(0, 60 * 24 * 600))
        return Order(f"{prefix}-{n:06d}", customer, currency, lines, placed_at)


def _ascii(text: str) -> str:
    return text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
