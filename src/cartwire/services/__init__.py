"""The application-service layer: the only way shells reach the engine.

`Services` (`context`) opens the store once and hands out one service per job: `instances`,
`pools`, `flows`, `runs`, `lookups`, `webhooks`, `records`, `access` (API keys, users, sessions,
roles), and for a long-lived process `starter` (runs started in its threads) and `metrics()`;
`connectors` needs no store. Data goes in and out as plain values and pydantic models
that the HTTP API serialises as they are; `errors` names every exception a shell turns into a
message. `clients` is where an instance becomes a connector and an HTTP client, for flows,
`cartwire.open()` and `cartwire.connect()` alike.

Importing this package loads nothing; each module loads what it needs, so a command that only
reads connector files does not import the store or the HTTP stack.
"""
