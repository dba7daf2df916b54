"""Row locks that make concurrent requests serialise, under Odoo's REPEATABLE
READ transactions.

``SELECT ... FOR UPDATE`` alone is not enough there: a second transaction that
waits for the lock gets it once the first one commits, but still reads its own
older snapshot, without what the first one wrote. A row that the first
transaction also *updated* makes the second one fail to serialise instead;
Odoo retries a failed request from the start, with a fresh snapshot in which
it finds what the first one did.
"""

from odoo.tools import SQL


def lock_and_touch(cr, table, ids, column="write_date"):
    """Lock the rows ``ids`` of ``table`` (in id order: no deadlock between two
    callers) and update them to themselves (``column = column``), so that a
    concurrent transaction locking any of them waits, then fails to
    serialise and is retried."""
    ids = tuple(sorted(ids))
    if not ids:
        return
    table, column = SQL.identifier(table), SQL.identifier(column)
    cr.execute(SQL("SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE", table, ids))
    cr.execute(SQL("UPDATE %s SET %s = %s WHERE id IN %s", table, column, column, ids))
