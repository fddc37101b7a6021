"""Selling, only to the satisfied (rule 4): the gate, the offer with its reason, referrals, opt-out."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from handlers.knowledge import Product
from handlers.messages import Kind
from handlers.needs import topic_label
from handlers.notices import stale_button
from storage.models import Need, Offer, ReferralCode, ReferralRedemption

if TYPE_CHECKING:
    from handlers.flow import Event
    from handlers.turn import Turn

BUDGET_WINDOW = timedelta(days=30)
_CODE_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Verdict:
    """Whether selling is allowed now, and every reason it is not."""

    allowed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class History:
    """What rule 4 looks back on: every need on record, and the offers made within reach of the budget."""

    needs: Sequence[Need]  # oldest first
    offers: Sequence[Offer]  # newest first, since the earlier of the budget window and the customer's first day


async def history_of(turn: Turn) -> History:
    """Fetch the customer's needs and offers once, for the gate and the choice of product alike."""
    since = min(turn.now - BUDGET_WINDOW, turn.customer.created_at)
    return History(await turn.uow.needs.for_customer(turn.customer.id),
                   await turn.uow.offers.since(turn.customer.id, since))


async def selling_verdict(
    turn: Turn, *, satisfied_by_followup: bool = False, history: History | None = None, score: int | None = None
) -> Verdict:
    """Check every condition of rule 4 for this customer and conversation.

    `score` is a rating the customer gave in this turn, so it is not read back from the database.
    """
    policy = turn.services.policy.selling
    history = history or await history_of(turn)
    reasons: list[str] = []
    if not satisfied_by_followup:
        if score is None:
            rating = await turn.uow.feedback.rating_for(turn.conversation.id)
            score = None if rating is None else rating.score
        if score is None or score < policy.min_rating:
            reasons.append("not rated as satisfied")
    if any(need.status == "open" for need in history.needs):
        reasons.append("a need is still open")
    if turn.conversation.frustrated:
        reasons.append("frustrated in this conversation")
    if turn.customer.opted_out:
        reasons.append("opted out")
    recent = [o for o in history.offers if o.created_at >= turn.now - BUDGET_WINDOW]
    if len(recent) >= policy.max_offers_per_30d:
        reasons.append("contact budget used")
    if any(o.status == "declined" and o.answered_at and turn.now - o.answered_at < policy.decline_cooldown
           for o in recent):
        reasons.append("declined recently")
    return Verdict(not reasons, tuple(reasons))


async def maybe_offer(turn: Turn, *, satisfied_by_followup: bool = False, score: int | None = None) -> None:
    """Suggest a product that serves a recorded need, or ask for a referral, if rule 4 allows it."""
    history = await history_of(turn)
    verdict = await selling_verdict(turn, satisfied_by_followup=satisfied_by_followup, history=history,
                                    score=score)
    if not verdict.allowed:
        return
    match = _product_for_needs(turn, history)
    if match is not None:
        product, need = match
        await _offer_product(turn, product, need)
        return
    referral = turn.services.knowledge.referral
    if referral is not None and await turn.uow.referrals.code_of(turn.customer.id) is None:
        await _ask_for_referral(turn)


async def offer_answered(turn: Turn, event: Event) -> None:
    """Record an accepted or declined offer and answer it."""
    offer = await turn.uow.offers.get(event.record_id)
    if offer is None or offer.customer_id != turn.customer.id or offer.status != "made":
        await stale_button(turn, event)
        return
    offer.answered_at = turn.now
    offer.status = "accepted" if event.arg == "accept" else "declined"
    product = next((p for p in turn.services.knowledge.products if p.sku == offer.sku), None)
    if offer.status == "accepted" and product is not None:
        turn.say(Kind.NOTICE, turn.render("offer_accepted", product=product))
    elif offer.status == "declined":
        turn.say(Kind.NOTICE, turn.render("offer_declined"))
    else:
        turn.say(Kind.NOTICE, turn.render("thanks_reply"))


async def opt_out(turn: Turn, event: Event) -> None:
    """Opt the customer out of all selling at once, and confirm it."""
    if not turn.customer.opted_out:
        turn.customer.opted_out, turn.customer.opted_out_at = True, turn.now
    turn.say(Kind.NOTICE, turn.render("optout"))


async def redeem_referral(turn: Turn, event: Event) -> None:
    """Link a new customer to the customer whose referral code they brought."""
    code = await turn.uow.referrals.get(event.arg)
    problem = await _redemption_problem(turn, code)
    if problem is not None or code is None:
        turn.say(Kind.NOTICE, turn.render("referral_invalid", code=event.arg, reason=problem))
        return
    await turn.uow.referrals.add_redemption(ReferralRedemption(
        code=code.code, referrer_id=code.customer_id, referred_id=turn.customer.id, created_at=turn.now
    ))
    turn.customer.referred_by_id = code.customer_id
    turn.say(Kind.NOTICE, turn.render("referral_redeemed", code=code.code))


async def _redemption_problem(turn: Turn, code: ReferralCode | None) -> str | None:
    if code is None:
        return "it doesn't match any referral code"
    if code.customer_id == turn.customer.id:
        return "it's your own code, so share it with a friend instead"
    if await turn.uow.referrals.redemption_by(turn.customer.id) is not None:
        return "you've already used a referral code"
    if await turn.uow.needs.for_customer(turn.customer.id):
        return "referral codes are for new customers"
    return None


def _product_for_needs(turn: Turn, history: History) -> tuple[Product, Need] | None:
    """Find a product not offered before that serves a need on record, this conversation's first."""
    needs = list(history.needs)
    needs.sort(key=lambda need: (need.conversation_id != turn.conversation.id, -need.id))
    offered = {o.sku for o in history.offers if o.created_at >= turn.customer.created_at}
    for need in needs:
        for product in turn.services.knowledge.products_serving(set(need.tags)):
            if product.sku not in offered:
                return product, need
    return None


async def _offer_product(turn: Turn, product: Product, need: Need) -> None:
    tags = sorted(set(need.tags).intersection(product.serves))
    offer = await turn.uow.offers.add(Offer(
        customer_id=turn.customer.id, conversation_id=turn.conversation.id, kind="product", sku=product.sku,
        need_id=need.id, reason=f"serves need #{need.id} ({need.topic}) through {', '.join(tags)}",
        allowed=True, status="made", created_at=turn.now, answered_at=None,
    ))
    topic = topic_label(turn.services.knowledge, need.topic)
    buttons = (
        turn.button("offer", offer.id, "accept", turn.templates.label("offer_accept")),
        turn.button("offer", offer.id, "decline", turn.templates.label("offer_decline")),
    )
    turn.say(Kind.OFFER, turn.render("offer", product=product, topic=topic), buttons)


async def _ask_for_referral(turn: Turn) -> None:
    code = "REF-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
    turn.uow.referrals.stage(ReferralCode(code=code, customer_id=turn.customer.id, created_at=turn.now))
    turn.uow.offers.stage(Offer(
        customer_id=turn.customer.id, conversation_id=turn.conversation.id, kind="referral", sku=None,
        need_id=None, reason="satisfied customer with no product matching their needs", allowed=True,
        status="made", created_at=turn.now, answered_at=None,
    ))
    turn.say(Kind.REFERRAL, turn.render("referral", referral=turn.services.knowledge.referral, code=code))
