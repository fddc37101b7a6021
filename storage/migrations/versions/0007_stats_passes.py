"""stats passes: index-only passes for the stats figures, with the per-row facts they need kept by triggers

The stats call walks the period's rows once per figure; these make each walk index-only, sort-free and
probe-free:
- `conversations (opened_at, customer_id)` replaces `(opened_at)`: the per-customer counts read the index alone.
- `needs (topic, created_at)` and `needs (status, created_at)` replace `(created_at, status, topic)`: top needs
  are counted topic by topic (a loose index scan) and resolved/unmet are two range counts, with no sort.
- `ratings.with_offer`: the rating's conversation has an offer, so "satisfaction with an offer vs without" is
  one pass over `ratings (created_at, score, with_offer)` instead of a probe or a hashed list of every offer.
- `offers.best_rating_before` (the conversation's highest score rated at or before the offer) and
  `offers.positive_followup_before` (the customer had answered a follow-up "yes" at or before it): the rule-4
  audit reads them from `ix_offers_stats` instead of probing ratings and follow-ups for every offer.

Database triggers keep these facts exact whatever writes the rows (the engine, a bulk load, a cascade
delete) and in whatever order: an insert, change or delete of an offer, rating or "yes" follow-up recomputes
the facts of the offers and ratings it touches (one conversation or one customer, through existing
indexes). They are facts rebuilt by the database, not the selling gate's verdict, so a gate bug still shows.
The engine serialises a customer's turns, so no two transactions write one conversation's rows at once.

SQLite drops a table's triggers when a batch migration recreates the table: a later migration that rebuilds
`ratings`, `offers` or `followups` on SQLite must create these triggers again
(tests/integration/test_stats_facts.py fails otherwise).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Recompute statements, shared by both databases; {id} is NEW.x or OLD.x inside a trigger.
RATINGS_OF_CONVERSATION = """UPDATE ratings
    SET with_offer = EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = ratings.conversation_id)
    WHERE conversation_id = {id}"""
OFFERS_OF_CONVERSATION = """UPDATE offers
    SET best_rating_before = (SELECT max(r.score) FROM ratings r
                              WHERE r.conversation_id = offers.conversation_id AND r.created_at <= offers.created_at)
    WHERE conversation_id = {id}"""
OFFERS_OF_CUSTOMER = """UPDATE offers
    SET positive_followup_before = EXISTS (SELECT 1 FROM followups f WHERE f.customer_id = offers.customer_id
                                           AND f.status = 'yes' AND f.answered_at <= offers.created_at)
    WHERE customer_id = {id}"""
OFFER_FACTS = """UPDATE offers
    SET best_rating_before = (SELECT max(r.score) FROM ratings r
                              WHERE r.conversation_id = offers.conversation_id AND r.created_at <= offers.created_at),
        positive_followup_before = EXISTS (SELECT 1 FROM followups f WHERE f.customer_id = offers.customer_id
                                           AND f.status = 'yes' AND f.answered_at <= offers.created_at)
    WHERE id = NEW.id"""

SQLITE_TRIGGERS = {
    "trg_stats_rating_insert": "AFTER INSERT ON ratings BEGIN {ratings}; {offers}; END".format(
        ratings=RATINGS_OF_CONVERSATION.replace("WHERE conversation_id = {id}", "WHERE id = NEW.id"),
        offers=OFFERS_OF_CONVERSATION.format(id="NEW.conversation_id")),
    "trg_stats_rating_update": "AFTER UPDATE OF score, created_at ON ratings BEGIN {offers}; END".format(
        offers=OFFERS_OF_CONVERSATION.format(id="NEW.conversation_id")),
    "trg_stats_rating_delete": "AFTER DELETE ON ratings BEGIN {offers}; END".format(
        offers=OFFERS_OF_CONVERSATION.format(id="OLD.conversation_id")),
    "trg_stats_offer_insert": "AFTER INSERT ON offers BEGIN {ratings}; {facts}; END".format(
        ratings=RATINGS_OF_CONVERSATION.format(id="NEW.conversation_id"), facts=OFFER_FACTS),
    "trg_stats_offer_delete": "AFTER DELETE ON offers BEGIN {ratings}; END".format(
        ratings=RATINGS_OF_CONVERSATION.format(id="OLD.conversation_id")),
    "trg_stats_followup_insert": "AFTER INSERT ON followups WHEN NEW.status = 'yes' BEGIN {offers}; END".format(
        offers=OFFERS_OF_CUSTOMER.format(id="NEW.customer_id")),
    "trg_stats_followup_update": (
        "AFTER UPDATE OF status, answered_at ON followups WHEN NEW.status = 'yes' OR OLD.status = 'yes' "
        "BEGIN {offers}; END").format(offers=OFFERS_OF_CUSTOMER.format(id="NEW.customer_id")),
    "trg_stats_followup_delete": "AFTER DELETE ON followups WHEN OLD.status = 'yes' BEGIN {offers}; END".format(
        offers=OFFERS_OF_CUSTOMER.format(id="OLD.customer_id")),
}

RESCORE_OLD = OFFERS_OF_CONVERSATION.format(id="OLD.conversation_id")
RESCORE_NEW = OFFERS_OF_CONVERSATION.format(id="NEW.conversation_id")

# PostgreSQL: BEFORE INSERT fills the new row's own facts; AFTER triggers recompute the rows it touches.
POSTGRES_FUNCTIONS = {
    "stats_rating_facts": f"""BEGIN
        IF TG_OP = 'INSERT' AND TG_WHEN = 'BEFORE' THEN
            NEW.with_offer := EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = NEW.conversation_id);
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            {RESCORE_OLD};
            RETURN OLD;
        END IF;
        {RESCORE_NEW};
        RETURN NEW;
    END""",  # noqa: S608 - constant SQL
    "stats_offer_facts": """BEGIN
        IF TG_OP = 'INSERT' AND TG_WHEN = 'BEFORE' THEN
            NEW.best_rating_before := (
                SELECT max(r.score) FROM ratings r
                WHERE r.conversation_id = NEW.conversation_id AND r.created_at <= NEW.created_at);
            NEW.positive_followup_before := EXISTS (
                SELECT 1 FROM followups f
                WHERE f.customer_id = NEW.customer_id AND f.status = 'yes' AND f.answered_at <= NEW.created_at);
            RETURN NEW;
        END IF;
        IF TG_OP = 'INSERT' THEN
            UPDATE ratings SET with_offer = TRUE WHERE conversation_id = NEW.conversation_id AND NOT with_offer;
            RETURN NEW;
        END IF;
        {old_ratings};
        RETURN OLD;
    END""".format(old_ratings=RATINGS_OF_CONVERSATION.format(id="OLD.conversation_id")),  # noqa: S608 - constant SQL
    "stats_followup_facts": """BEGIN
        IF TG_OP = 'DELETE' THEN
            {old_offers};
            RETURN OLD;
        END IF;
        {new_offers};
        RETURN NEW;
    END""".format(old_offers=OFFERS_OF_CUSTOMER.format(id="OLD.customer_id"),
                  new_offers=OFFERS_OF_CUSTOMER.format(id="NEW.customer_id")),
}
POSTGRES_TRIGGERS = {
    "trg_stats_rating_before": "BEFORE INSERT ON ratings FOR EACH ROW EXECUTE FUNCTION stats_rating_facts()",
    "trg_stats_rating_after": ("AFTER INSERT OR UPDATE OF score, created_at OR DELETE ON ratings "
                               "FOR EACH ROW EXECUTE FUNCTION stats_rating_facts()"),
    "trg_stats_offer_before": "BEFORE INSERT ON offers FOR EACH ROW EXECUTE FUNCTION stats_offer_facts()",
    "trg_stats_offer_after": "AFTER INSERT OR DELETE ON offers FOR EACH ROW EXECUTE FUNCTION stats_offer_facts()",
    "trg_stats_followup_insert": ("AFTER INSERT ON followups FOR EACH ROW WHEN (NEW.status = 'yes') "
                                  "EXECUTE FUNCTION stats_followup_facts()"),
    "trg_stats_followup_update": ("AFTER UPDATE OF status, answered_at ON followups FOR EACH ROW "
                                  "WHEN (NEW.status = 'yes' OR OLD.status = 'yes') "
                                  "EXECUTE FUNCTION stats_followup_facts()"),
    "trg_stats_followup_delete": ("AFTER DELETE ON followups FOR EACH ROW WHEN (OLD.status = 'yes') "
                                  "EXECUTE FUNCTION stats_followup_facts()"),
}
TRIGGER_TABLES = {"rating": "ratings", "offer": "offers", "followup": "followups"}

OFFERS_STATS_BEFORE = ["created_at", "kind", "status", "allowed", "conversation_id", "customer_id"]
OFFERS_STATS = ["created_at", "kind", "status", "allowed", "best_rating_before", "positive_followup_before",
                "conversation_id", "customer_id"]


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_opened_at")
        batch_op.create_index("ix_conversations_opened_customer", ["opened_at", "customer_id"], unique=False)
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index("ix_needs_created_status_topic")
        batch_op.create_index("ix_needs_topic_created", ["topic", "created_at"], unique=False)
        batch_op.create_index("ix_needs_status_created", ["status", "created_at"], unique=False)
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("with_offer", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_index("ix_ratings_created_score")
        batch_op.create_index("ix_ratings_created_score_offer", ["created_at", "score", "with_offer"], unique=False)
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("best_rating_before", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("positive_followup_before", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.drop_index("ix_offers_stats")
        batch_op.create_index("ix_offers_stats", OFFERS_STATS, unique=False)
    op.execute(RATINGS_OF_CONVERSATION.replace("WHERE conversation_id = {id}", ""))
    op.execute(OFFER_FACTS.replace("WHERE id = NEW.id", ""))
    # Last: on SQLite a batch rebuild of a table (above) would drop its triggers.
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for name, body in POSTGRES_FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
    for name, body in POSTGRES_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {TRIGGER_TABLES[name.split('_')[2]]}")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_stats")
        batch_op.create_index("ix_offers_stats", OFFERS_STATS_BEFORE, unique=False)
        batch_op.drop_column("positive_followup_before")
        batch_op.drop_column("best_rating_before")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_ratings_created_score_offer")
        batch_op.create_index("ix_ratings_created_score", ["created_at", "score", "conversation_id"], unique=False)
        batch_op.drop_column("with_offer")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index("ix_needs_status_created")
        batch_op.drop_index("ix_needs_topic_created")
        batch_op.create_index("ix_needs_created_status_topic", ["created_at", "status", "topic"], unique=False)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_opened_customer")
        batch_op.create_index("ix_conversations_opened_at", ["opened_at"], unique=False)
