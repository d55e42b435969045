"""The tag-order trigger looks the updated items up by key, whatever the planner thinks of the table's size.

After an UPDATE of content, ``labeling_content_tag_order_updated`` (migration 0020) joins the updated rows (a
transition table: a re-prediction chunk's 1,000) to ``labeling_content_tag_order`` by primary key. The planner prices
an index probe as a random read from disk (``random_page_cost`` 4), so once the table's statistics say it holds tens of
thousands of rows it reads the whole table into a hash instead: at 100,764 items, 18-25 ms per 1,000-row statement
against 2 ms by key. PL/pgSQL keeps the plan of a connection's first call until the table is analyzed again, so which
one a connection used depended on the first statement it ran: a re-prediction chunk's, which prices probes as reads
from memory (common/planner.py), got the probes; a bulk gold import or an admin's action in a web process, the hash
(docs/benchmarks.md, session 13). The table is cached and each probe touches a page or two.

With hash and merge joins off inside this function only (its own settings; the writer's statement plans as before),
the trigger costs what its statement wrote, whatever the size of the table. A later ``CREATE OR REPLACE FUNCTION`` of
it must repeat the ``SET`` clauses (tests/test_trigger_plans.py fails otherwise).
"""

from django.db import migrations

FUNCTIONS = ("labeling_content_tag_order_updated",)


def probe_by_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in FUNCTIONS:
            schema_editor.execute(f"ALTER FUNCTION {name}() SET enable_hashjoin = off SET enable_mergejoin = off")


def plan_freely(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in FUNCTIONS:
            schema_editor.execute(f"ALTER FUNCTION {name}() RESET ALL")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0021_content_room_for_first_tag")]

    operations = [migrations.RunPython(probe_by_key, plan_freely)]
