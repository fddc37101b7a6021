"""Where a ticket lives in the desk: the thread of its card, once an agent has claimed it from there.

The thread is kept in the ticket's conversation context while a person holds the conversation (handing
it back to the bot resets the context), as (platform, channel id, thread id).
"""

from __future__ import annotations

from handlers.messages import Inbound
from storage.models import Conversation

THREAD_KEY = "desk_thread"


def remember(conversation: Conversation, inbound: Inbound) -> None:
    """Keep the desk thread an agent acted from as the ticket's thread."""
    if inbound.channel_id and inbound.thread_id:
        ref = [inbound.platform, inbound.channel_id, inbound.thread_id]
        # A new dict, so the JSON column sees the change.
        conversation.context = {**(conversation.context or {}), THREAD_KEY: ref}


def address(conversation: Conversation, desk: str) -> tuple[str | None, str | None]:
    """The (channel, thread) a desk message about this conversation goes to on `desk`; (None, None) is the channel."""
    ref = (conversation.context or {}).get(THREAD_KEY)
    if isinstance(ref, list) and len(ref) == 3 and ref[0] == desk:
        return str(ref[1]), str(ref[2])
    return None, None


def is_thread_of(conversation: Conversation, inbound: Inbound) -> bool:
    """Tell whether a message was written in this conversation's desk thread."""
    return inbound.thread_id is not None and address(conversation, inbound.platform) == (
        inbound.channel_id, inbound.thread_id)
