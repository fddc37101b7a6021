"""One turn of a conversation: who, what they did, what we know, and the replies being built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.knowledge import KnowledgeBase
from handlers.messages import Attachment, Button, Inbound, Kind, Reply
from handlers.policy import Policy
from handlers.replies import Templates
from handlers.understanding import Feeling, Mood, Understander, Understanding
from storage.models import Conversation, Customer
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Services:
    """What every use case may consult: the knowledge base, understanding, templates and policy."""

    knowledge: KnowledgeBase
    understander: Understander
    templates: Templates
    policy: Policy


@dataclass
class Turn:
    """The state of one turn; use cases read it, change the records, and add replies with `say`."""

    uow: UnitOfWork
    services: Services
    customer: Customer
    conversation: Conversation
    now: datetime
    inbound: Inbound | None = None
    # How the customer's words sound, read every turn; what they ask for is read on demand (`understood`).
    feeling: Feeling | None = None
    understanding: Understanding | None = None
    replies: list[Reply] = field(default_factory=list)
    forget_customer: bool = False
    # The customer's inbound messages within the flood window, this one included (None: not counted yet).
    recent_inbound: int | None = None
    # The empathy opener the customer got last, in any conversation: the next one must differ (rule 1).
    last_opener: str | None = None

    @property
    def text(self) -> str:
        return self.inbound.text if self.inbound else ""

    @property
    def mood(self) -> Mood:
        """How the customer sounds now; a press of a button carries no words, so frustration carries over."""
        if self.feeling is not None and self.feeling.mood != "neutral":
            return self.feeling.mood
        return "frustrated" if self.conversation.frustrated else "neutral"

    def understood(self) -> Understanding:
        """Read what the customer's words ask for, once a turn, when a use case needs it.

        Only requests need the intent model: a "yes", a rating or thanks is an answer to the bot's own
        question, and skipping the model for them saves most of understanding's cost in a conversation.
        """
        if self.understanding is None:
            self.understanding = self.services.understander.understand(
                self.text[: self.services.policy.max_understood_chars],
                failed_attempts=self.conversation.failed_attempts,
                feeling=self.feeling,  # read from the same words this turn: VADER need not run twice
            )
        return self.understanding

    @property
    def templates(self) -> Templates:
        return self.services.templates

    def say(
        self, kind: Kind, text: str, buttons: tuple[Button, ...] = (), *,
        ephemeral: bool = False, attachments: tuple[Attachment, ...] = (),
    ) -> None:
        """Queue a message to the customer in this conversation's channel."""
        platform, _, user_id = self.customer.key.partition(":")
        self.replies.append(Reply(
            platform=platform, to=user_id, kind=kind, text=text, buttons=buttons,
            channel_id=self.conversation.channel_id, thread_id=self.conversation.thread_id,
            conversation_id=self.conversation.id, ephemeral=ephemeral, attachments=attachments,
        ))

    def render(self, template: str, /, **variables: Any) -> str:
        """Render a template with the customer's name and the business name available."""
        return self.templates.render(
            template, name=self.customer.display_name, business=self.services.knowledge.business_name, **variables
        )

    def opener(self, topic: str = "this", mood: Mood | None = None) -> str:
        """Pick an empathy opener for the customer's mood, never the one they got last."""
        chosen = self.templates.opener(mood or self.mood, topic, avoid=self.last_opener)
        # Kept on the conversation, which this turn writes anyway (see `Conversation.last_opener`).
        self.conversation.last_opener, self.conversation.last_opener_at = chosen, self.now
        self.last_opener = chosen
        return chosen

    def button(self, action: str, record_id: int, arg: str, label: str) -> Button:
        """Make a button tied to one record (conversation, offer or follow-up) of this customer."""
        return Button(id=f"{action}:{record_id}:{arg}", label=label)

    def enter(self, state: str, **context: Any) -> None:
        """Move the conversation to `state`, keeping what the next turn needs to know."""
        self.conversation.state = state
        self.conversation.context = context

    def close(self, reason: str) -> None:
        """Close the conversation (rated, handed off and closed, or idle)."""
        if self.conversation.closed_at is None:
            self.conversation.closed_at = self.now
            self.conversation.close_reason = reason
