"""Plans for bulk work on rows that are in memory: index probes priced as what they cost there.

PostgreSQL prices reading a page at random at 4x reading the next one (``random_page_cost``, its default, made for
spinning disks). A re-prediction chunk updates 2,000 items it read a moment before, and the review tasks and
predictions of those items: the pages are in shared buffers, and a probe by key costs about what a page of a
sequential scan does. At the default the planner chose to hash the 2,000 keys against a sequential scan of the whole
table (every item, every open review task) for each statement, until the table grows past ~100,000 rows: at 20,000
items that was 12 us of the server's CPU per item, a fifth of it (docs/benchmarks.md, session 10). SSD-backed servers
are often configured so; here it is set for the chunk's transaction only, so no other query's plan moves.
"""

from django.db import connection

# What is commonly set for SSDs and data in memory; just above seq_page_cost (1.0), which it should not undercut.
RANDOM_PAGE_COST = 1.1


def plan_for_rows_in_memory() -> None:
    """For the rest of the current transaction, price an index probe as on data in memory (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
