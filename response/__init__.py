"""The incident response process (the seed's phases, roles, updates and postmortems), pure.

No Flask, no database, no clock: the receiver turns its rows into the values of `facts`,
calls in here with `now`, and stores or sends what comes back.
"""
