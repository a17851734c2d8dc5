"""`validate` reports every problem of a flow file at once, each at its place in the file, in the
words a user reads (pydantic's loc tuples and union noise never reach them)."""

from pathlib import Path
from textwrap import dedent

import pytest

from cartwire.flows import FlowInvalid, Problem, load_flow, validate
from tests.flows.support import REGISTRY, as_text, minimal

CENTZ = """\
name: ct-products-to-cl-skus
source: {connector: commercetools, endpoint: products}
steps:
  - split: {paths: [masterData.current.masterVariant], as: variant}
  - filter: {field: variant.sku, op: exists}
  - map:
      fields:
        code: variant.sku
        price: {from: variant.price, transform: [centz]}
destination: {connector: commercelayer, endpoint: skus}
"""


def problems(text: str) -> list[str]:
    return [str(p) for p in validate(dedent(text), registry=REGISTRY)]


def data_problems(**parts: object) -> list[str]:
    return [str(p) for p in validate(as_text(minimal(**parts)), registry=REGISTRY)]


def test_the_issue_example_verbatim_with_its_line() -> None:
    found = validate(CENTZ, registry=REGISTRY)
    assert found == [
        Problem(
            "steps[2].map.fields.price.transform[0]",
            'unknown transform "centz"; did you mean "cents"?',
            line=9,
        )
    ]


def test_load_flow_raises_with_every_problem() -> None:
    with pytest.raises(FlowInvalid) as raised:
        load_flow(CENTZ.replace("endpoint: skus", "endpoint: skuz"), registry=REGISTRY)
    assert str(raised.value).splitlines() == [
        'steps[2].map.fields.price.transform[0]: unknown transform "centz"; did you mean "cents"?',
        'destination.endpoint: unknown endpoint "skuz" of commercelayer; did you mean "skus"?',
    ]


def test_every_problem_in_one_pass_in_file_order() -> None:
    text = """\
        name: Bad_Name
        version: 0
        triggers:
          - manual
          - schedule: "*/15 * * *"
          - schedule: "61 * * * *"
          - webhook: {kind: comercelayer}
          - cron: "* * * * *"
        source: {connector: commercetools, endpoint: prodcts}
        steps:
          - split: {paths: ["masterData..current"], as: variant}
          - filter: {field: variant.sku, op: equals, value: 1}
          - filter: {any: [{field: a, op: matches, value: "(["}, {field: b, op: exists, value: 2}]}
          - mapp: {}
          - map:
              fields:
                when: {from: x, transform: [{datetime: {timezone: Europe/Berln}}]}
                fn: {from: x, transform: [{python: "not a name"}]}
                t: {template: "[[a.b"}
                both: {from: a, value: 1}
                cut: {from: a, transform: [{truncate: 0}]}
                lk: {from: a, transform: [{lookup: {table: chan, missing: maybe}}]}
                money: {from: a, transform: [{cents: {fraction_digit: 2}}]}
                up: {from: a, transform: [{upper: 1}, {truncate: x}, truncate]}
        outputs:
          - name: skus
            destination: {connector: commercelayr, endpoint: skus}
          - name: prices
            destination: {connector: commercelayer, endpoint: prices, mode: upsertt}
          - name: orders
            destination: {connector: commercelayer, endpoint: orders}
          - name: events
            destination: {connector: commercelayer, endpoint: events, mode: upsert}
        settings: {batch_size: 0, on_record_error: halt, batchsize: 3}
        """
    assert problems(text) == [
        'name: "Bad_Name": use lowercase letters, digits and -',
        "version: Input should be greater than or equal to 1",
        'triggers[1].schedule: "*/15 * * *" has 4 fields; a schedule is a 5-field cron expression'
        " (minute hour day-of-month month day-of-week, in UTC)",
        'triggers[2].schedule: bad cron expression "61 * * * *": [61 * * * *] is not acceptable,'
        " out of range",
        'triggers[3].webhook.kind: unknown webhook kind "comercelayer"; did you mean'
        ' "commercelayer"?',
        'triggers[4]: unknown trigger "cron"; known: manual, schedule, webhook',
        'source.endpoint: unknown endpoint "prodcts" of commercetools; did you mean "products"?',
        'steps[0].split.paths[0]: bad path "masterData..current": "" is not a field name with'
        " optional [index]",
        'steps[1].filter.op: unknown filter op "equals"; known: eq, ne, in, not_in, gt, gte, lt,'
        " lte, exists, missing, matches",
        'steps[2].filter.any[0].value: bad regular expression "([": unterminated character set at'
        " position 1",
        "steps[2].filter.any[1].value: op exists takes no value",
        'steps[3]: unknown step "mapp"; did you mean "map"?',
        "steps[4].map.fields.when.transform[0].datetime.timezone: unknown time zone"
        ' "Europe/Berln"; did you mean "Europe/Berlin"?',
        'steps[4].map.fields.fn.transform[0].python: bad python function "not a name": write it'
        ' as "package.module:function"',
        'steps[4].map.fields.t.template: bad template "[[a.b": a placeholder is [[path]], e.g.'
        " [[payload.id]]",
        "steps[4].map.fields.both: give exactly one of from, value, template",
        "steps[4].map.fields.cut.transform[0].truncate: Input should be greater than or equal to 1",
        'steps[4].map.fields.lk.transform[0].lookup.missing: unknown missing behaviour "maybe";'
        " known: error, null, keep",
        'steps[4].map.fields.money.transform[0].cents: unknown key "fraction_digit"; did you mean'
        ' "fraction_digits"?',
        'steps[4].map.fields.up.transform[0]: transform "upper" takes no arguments',
        "steps[4].map.fields.up.transform[1].truncate: Input should be a valid integer, unable to"
        " parse string as an integer",
        'steps[4].map.fields.up.transform[2]: transform "truncate" needs an argument:'
        " {truncate: ...}",
        'outputs[0].destination.connector: unknown connector "commercelayr"; did you mean'
        ' "commercelayer"?',
        'outputs[1].destination.mode: unknown mode "upsertt"; did you mean "upsert"?',
        'outputs[2].destination.endpoint: endpoint "orders" of commercelayer cannot be written to',
        "outputs[3].destination.key: required: commercelayer events declares no natural key, so"
        " upsert needs the field records are matched by",
        "settings.batch_size: Input should be greater than or equal to 1",
        'settings.on_record_error: unknown on_record_error "halt"; known: continue, stop',
        'settings: unknown setting "batchsize"; did you mean "batch_size"?',
    ]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"name": None}, ["name: Input should be a valid string"]),
        ({"source": {"connector": "commercetools"}}, ["source.endpoint: required"]),
        (
            {"source": {"connector": "shopify", "endpoint": "products"}},
            ['source.connector: unknown connector "shopify"; known: commercelayer, commercetools'],
        ),
        (
            {"source": {"connector": "commercelayer", "endpoint": "prices"}},
            ['source.endpoint: endpoint "prices" of commercelayer cannot be read from'],
        ),
        (
            {
                "source": {
                    "connector": "commercetools",
                    "endpoint": "products",
                    "filters": {"whre": "x", "var.skus": ["A", "B"], "staged": ["true", "x"]},
                }
            },
            [
                'source.filters.whre: unknown filter "whre" of commercetools products;'
                ' did you mean "where"?'
            ],
        ),
        (
            {
                "source": {
                    "connector": "commercetools",
                    "endpoint": "products",
                    "filters": {"staged": ["true", "false"]},
                }
            },
            ['source.filters.staged: filter "staged" takes one value'],
        ),
        (
            {
                "source": {
                    "connector": "commercetools",
                    "endpoint": "inventory",
                    "incremental": True,
                }
            },
            [
                "source.incremental: endpoint inventory of commercetools has no incremental reads;"
                " set incremental: false"
            ],
        ),
        (
            {"destination": {"connector": "commercelayer", "endpoint": "skus", "key": "sku"}},
            ['destination.key: commercelayer skus records are matched by "code", not "sku"'],
        ),
        (
            {"destination": {"connector": "commercelayer", "endpoint": "skus", "mode": "create"}},
            ['destination.mode: unknown mode "create"; did you mean "create-only"?'],
        ),
        (
            {
                "outputs": [
                    {"name": "s", "destination": {"connector": "commercelayer", "endpoint": "skus"}}
                ]
            },
            ["destination: give destination (one output) or outputs, not both"],
        ),
        ({"destination": None}, ["outputs: required: a destination, or a list of outputs"]),
        (
            {
                "destination": None,
                "outputs": [
                    {"name": "skus", "destination": {"connector": "commercelayer", "endpoint": e}}
                    for e in ("skus", "prices")
                ],
            },
            ['outputs[1].name: duplicate output name "skus"'],
        ),
        (
            {
                "destination": None,
                "outputs": [
                    {
                        "name": "read",
                        "destination": {"connector": "commercelayer", "endpoint": "skus"},
                    }
                ],
            },
            [
                'outputs[0].name: output name "read" is taken by the source\'s read in the counts'
                " of a run; name the output after what it writes"
            ],
        ),
        (
            {"steps": [{"map": {"fields": {"sku": "key"}}}]},
            ['destination.key: key "code" is not a field the map makes (sku)'],
        ),
        (
            {"steps": [{"batch": 10}, {"batch": {"size": 20}}]},
            ["steps[1]: only one batch step per list of steps"],
        ),
        (
            {"steps": [{"map": {"fields": {"code": "key", "a.b": "x", "a": "y"}}}]},
            ['steps[0].map.fields.a: "a" overlaps target field "a.b"'],
        ),
        (
            {"steps": [{"map": {"fields": {"code": "key", "a[0]": "x"}}}]},
            [
                'steps[0].map.fields["a[0]"]: bad target field "a[0]": use field names joined'
                " by dots"
            ],
        ),
        (
            {
                "steps": [
                    {"map": {"fields": {"code": {"each": {"fields": {"x": "y"}}, "value": 1}}}}
                ]
            },
            ["steps[0].map.fields.code.each: each needs from (the list to map)"],
        ),
        (
            {"steps": [{"split": {"path": "variants", "as": "v", "parent": "v"}}]},
            ["steps[0].split.parent: as and parent must be different names"],
        ),
        (
            {"steps": [{"filter": {"field": "a", "op": "in", "value": "x"}}]},
            ["steps[0].filter.value: op in needs a list of values"],
        ),
        (
            {"steps": [{"filter": {"field": "a", "op": "gt"}}]},
            ["steps[0].filter.value: op gt needs a value"],
        ),
        (
            {"steps": [{"filter": {"field": "a", "op": "eq", "value": 1, "any": []}}]},
            ["steps[0].filter.any: List should have at least 1 item after validation, not 0"],
        ),
        (
            {"steps": [{"filter": {"field": "a", "any": [{"field": "b", "op": "exists"}]}}]},
            ["steps[0].filter: a condition is either field/op/value or one of all, any, not"],
        ),
        (
            {"steps": [{"filter": {"op": "exists"}}]},
            ["steps[0].filter.field: required (or use all, any or not)"],
        ),
        (
            {"steps": [{"map": {}, "filter": {}}]},
            ["steps[0]: a step is a mapping with exactly one key; got: map, filter"],
        ),
        ({"steps": ["map"]}, ['steps[0]: step "map" needs an argument: {map: ...}']),
        (
            {
                "steps": [
                    {"map": {"fields": {"code": {"from": "key", "transform": {"lookup": "Bad"}}}}}
                ]
            },
            [
                'steps[0].map.fields.code.transform[0].lookup.table: "Bad": use lowercase'
                " letters, digits, _ and -"
            ],
        ),
        (
            {
                "steps": [
                    {
                        "map": {
                            "fields": {
                                "code": {
                                    "from": "key",
                                    "transform": {
                                        "lookup": {"table": "t", "default": "x", "missing": "null"}
                                    },
                                }
                            }
                        }
                    }
                ]
            },
            [
                "steps[0].map.fields.code.transform[0].lookup: give default or missing, not both"
                " (a default is never missing)"
            ],
        ),
        ({"triggers": []}, ["triggers: List should have at least 1 item after validation, not 0"]),
        ({"steps": {"map": {}}}, ["steps: expected a list"]),
        ({"settings": 5}, ["settings: expected a mapping (key: value, ...)"]),
        (
            {"steps": [{"map": {"fields": {"code": {"from_": "key"}}}}]},
            ['steps[0].map.fields.code: unknown key "from_"; did you mean "from"?'],
        ),
        (
            {"triggers": [{"schedule": "@hourly"}]},
            [
                'triggers[0].schedule: "@hourly" has 1 fields; a schedule is a 5-field cron'
                " expression (minute hour day-of-month month day-of-week, in UTC)"
            ],
        ),
        (
            {"colour": "red"},
            [
                '(top level): unknown key "colour"; known: name, description, version, triggers,'
                " source, steps, outputs, destination, lookups, settings"
            ],
        ),
    ],
)
def test_problems(parts: dict[str, object], expected: list[str]) -> None:
    assert data_problems(**parts) == expected


def test_yaml_errors_and_odd_files() -> None:
    assert problems("name: [x\n") == [
        "(top level): not valid YAML: expected ',' or ']', but got '<stream end>' (line 2,"
        " column 1)"
    ]
    assert problems("\n\n") == [
        "(top level): the file is empty; a flow needs name, source and outputs"
    ]
    assert problems("- a\n- b\n") == ["(top level): expected a mapping (key: value, ...)"]


def test_duplicate_keys_are_reported_not_silently_dropped() -> None:
    text = CENTZ.replace("centz", "cents").replace(
        "        code: variant.sku\n", "        code: variant.sku\n        code: variant.key\n"
    )
    found = validate(text, registry=REGISTRY)
    assert [(str(p), p.line) for p in found] == [
        ('steps[2].map.fields.code: duplicate key "code" (first on line 8)', 9)
    ]


def test_a_valid_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(CENTZ.replace("centz", "cents"), encoding="utf-8")
    assert validate(path, registry=REGISTRY) == []
    assert validate(str(path), registry=REGISTRY) == []
    flow = load_flow(path, registry=REGISTRY)
    assert [o.name for o in flow.outputs] == ["skus"]
    assert flow.outputs[0].destination.key == "code"  # the endpoint's natural key


def test_the_installed_registry_includes_a_user_connector_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.flows.support import COMMERCELAYER

    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "acme.yaml").write_text(
        COMMERCELAYER.replace("name: commercelayer", "name: acme"), encoding="utf-8"
    )
    text = """\
        name: acme-orders
        source: {connector: acme, endpoint: orders, filters: {q.status_eq: placed}}
        destination: {connector: acme, endpoint: skus}
        """
    assert problems(text) == [
        'source.connector: unknown connector "acme"; known: commercelayer, commercetools',
        'destination.connector: unknown connector "acme"; known: commercelayer, commercetools',
    ]
    assert validate(dedent(text)) == []
    assert [str(p) for p in validate(dedent(text).replace("q.status_eq", "status"))] == [
        'source.filters.status: unknown filter "status" of acme orders; known: q.*'
    ]


def test_without_a_registry_only_the_file_is_checked() -> None:
    from cartwire.flows import Flow

    flow = Flow.model_validate(
        minimal(source={"connector": "anything", "endpoint": "at-all"}, settings={"concurrency": 8})
    )
    assert flow.source.connector == "anything"
    assert flow.outputs[0].destination.key is None
    assert flow.settings.concurrency == 8


def test_a_text_with_control_characters_is_a_problem_not_a_crash() -> None:
    """A flow file posted to the HTTP API can hold anything; YAML refuses some characters
    before it parses at all."""
    from cartwire.flows.validation import check_text

    flow, problems = check_text("name: x\u0017y\n")
    assert flow is None
    assert len(problems) == 1
    assert "not valid YAML" in problems[0].message
