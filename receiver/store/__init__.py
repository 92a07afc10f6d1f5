"""The database: engine, transactions, health, column types and the schema migrations."""
