"""The events of retrospectives: the catalogue's `retro.*`.

Anonymity holds here too: in an anonymous retro the events of cards, groups and votes carry no
actor and no author, no edit says which card changed, and no vote event says who voted or on
which group. A card's text is in its event only when everyone may read the card (not while the
collect phase hides it).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from takt.core.events import EventChanges, EventData

PHASE_DOC = "`collect`, `group`, `vote`, `discuss` or `closed`."


class RetroCreated(EventData):
    """A retrospective was created (by its facilitator), in the `collect` phase."""

    event_type: ClassVar[str] = "retro.created"
    id: str
    title: str
    template: str = Field(
        description="`start_stop_continue`, `mad_sad_glad`, `4ls`, `went_well` or `custom`."
    )
    sprint_id: str | None = Field(description="The sprint it looks back on, if any.")
    anonymous: bool
    evidence_cards: int = Field(description="Cards computed from the sprint's data.")


class GroupTally(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    group_id: str
    title: str
    votes: int


class RetroAdvanced(EventData):
    """The facilitator moved the retro to its next phase. Entering `vote`, every card left
    outside a group became a group of its own (`groups_created`); entering `discuss`, the
    votes became public: `discussion_order` lists the groups, most votes first."""

    event_type: ClassVar[str] = "retro.advanced"
    id: str
    previous: str = Field(description=f"The phase it left: {PHASE_DOC}")
    phase: str = Field(description=f"The phase it is in now: {PHASE_DOC}")
    groups_created: int = Field(0, description="Groups made of single cards entering `vote`.")
    discussion_order: list[GroupTally] | None = Field(
        None, description="Entering `discuss`: `{group_id, title, votes}`, most votes first."
    )


HIDDEN = (
    "Null while the collect phase hides cards: others can't read the card yet, and its id or "
    "prompt would later tie it to the moment it was written (to whoever saw someone write)."
)


class RetroCardAdded(EventData):
    """A card was added. No author, ever, in an anonymous retro. While the collect phase hides
    cards, it says only that a card came: `card_id`, `prompt_id` and `text` are null."""

    event_type: ClassVar[str] = "retro.card_added"
    retro_id: str
    card_id: str | None = Field(description=f"The card. {HIDDEN}")
    prompt_id: str | None = Field(description=f"The prompt it answers. {HIDDEN}")
    text: str | None = Field(None, description=f"What it says. {HIDDEN}")


class CardChanges(EventChanges):
    """The fields a `retro.card_updated` event may change, each as `[old, new]`; none in an
    anonymous retro, nor while the collect phase hides cards."""

    text: tuple[str, str] | None = None
    prompt_id: tuple[str, str] | None = None


class RetroCardUpdated(EventData):
    """Its author changed a card. In an anonymous retro, and in any retro while the collect
    phase hides cards, it says only that a card changed: `card_id` null, and no changes (the
    moment of an edit, seen by whoever watched someone edit, would say which card is theirs;
    read the retro again for its cards)."""

    event_type: ClassVar[str] = "retro.card_updated"
    changes_model: ClassVar[type[EventChanges] | None] = CardChanges
    retro_id: str
    card_id: str | None = Field(
        description="The card; null in an anonymous retro, and while the collect phase hides cards."
    )


class RetroCardRemoved(EventData):
    """Its author removed a card (`card_id` null while the collect phase hides cards)."""

    event_type: ClassVar[str] = "retro.card_removed"
    retro_id: str
    card_id: str | None = Field(description=f"The card. {HIDDEN}")


class RetroGroupCreated(EventData):
    """Cards were put together in a new group."""

    event_type: ClassVar[str] = "retro.group_created"
    retro_id: str
    group_id: str
    title: str
    card_ids: list[str]


class GroupChanges(EventChanges):
    """The fields a `retro.group_updated` event may change, each as `[old, new]`."""

    title: tuple[str, str] | None = None
    card_ids: tuple[list[str], list[str]] | None = Field(
        None, description="The group's cards before and after."
    )


class RetroGroupUpdated(EventData):
    """A group was renamed, or its cards changed."""

    event_type: ClassVar[str] = "retro.group_updated"
    changes_model: ClassVar[type[EventChanges] | None] = GroupChanges
    retro_id: str
    group_id: str


class RetroGroupRemoved(EventData):
    """A group was removed (by hand, or because its last card moved out); its cards, if any,
    are outside groups again."""

    event_type: ClassVar[str] = "retro.group_removed"
    retro_id: str
    group_id: str


class RetroVoteCast(EventData):
    """A vote was cast. Never who, never on which group: while voting, totals per group stay
    private, so this says only how many votes the retro holds now."""

    event_type: ClassVar[str] = "retro.vote_cast"
    retro_id: str
    votes_cast: int = Field(
        description="Votes in the retro as this vote's transaction counted them (a vote "
        "committing at the same moment may be missing from it: count the events for a tally)."
    )


class RetroVoteRemoved(EventData):
    """A participant took a vote back (never who, never from which group)."""

    event_type: ClassVar[str] = "retro.vote_removed"
    retro_id: str
    votes_cast: int = Field(description="Votes in the retro as this transaction counted them.")


class RetroActionCreated(EventData):
    """An action item of the retro became a work item (`item.created` names the same item)."""

    event_type: ClassVar[str] = "retro.action_created"
    retro_id: str
    action_id: str
    item_key: str
    owner: str = Field(description="The owner's username (the item's assignee).")
    group_id: str | None = Field(None, description="The group it came out of, if any.")
