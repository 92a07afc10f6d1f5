"""The status update form `/onwatch update` opens in Slack (a modal, `views.open`), and what
its submission (`view_submission`) says.

Its four fields are the process's internal update template's: status, impact, current action
and ETA (`receiver.response.updates`). Each is an input block whose `block_id` names the field,
so a refusal of one field goes back to Slack as `response_action: errors` under that block and
Slack shows it beside the field, keeping what the user typed.
"""

from __future__ import annotations

from typing import Any

from response.facts import UpdateStatus

CALLBACK_ID = "onwatch_update"
STATUS, IMPACT, ACTION, ETA = "status", "impact", "action", "eta"  # the blocks' ids
VALUE = "value"  # each input's action_id
MAX_FIELD = 1000  # characters Slack lets one field hold, and what onwatch accepts from it
# Which block a refusal from `post_update`/`parse_status` belongs to, by the field it names.
FIELD_BLOCKS = {"status": STATUS, "impact": IMPACT, "current_action": ACTION, "eta": ETA}


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _text_input(
    block_id: str, label: str, hint: str, *, multiline: bool, optional: bool
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label),
        "hint": _plain(hint),
        "element": {
            "type": "plain_text_input",
            "action_id": VALUE,
            "multiline": multiline,
            "max_length": MAX_FIELD,
        },
    }


def update_modal(incident_id: int) -> dict[str, Any]:
    """The modal view for a status update on `incident_id` (carried in `private_metadata`)."""
    options = [
        {"text": _plain(status.value.capitalize()), "value": status.value}
        for status in UpdateStatus
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": str(incident_id),
        "title": _plain(f"Update #{incident_id}"[:24]),
        "submit": _plain("Post update"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": STATUS,
                "label": _plain("Status"),
                "element": {
                    "type": "static_select",
                    "action_id": VALUE,
                    "initial_option": options[0],
                    "options": options,
                },
            },
            _text_input(
                IMPACT,
                "Impact",
                "Who is affected and what is broken",
                multiline=True,
                optional=False,
            ),
            _text_input(
                ACTION, "Current action", "What is being done now", multiline=True, optional=False
            ),
            _text_input(
                ETA,
                "ETA",
                "When the next step or the fix is expected",
                multiline=False,
                optional=True,
            ),
        ],
    }


def submitted(view: dict[str, Any]) -> dict[str, str]:
    """The four fields of a submitted update form, by block id ("" for an empty one);
    ValueError for a view that is not the form's."""
    values = view["state"]["values"]
    fields: dict[str, str] = {}
    for block in (STATUS, IMPACT, ACTION, ETA):
        element = values.get(block, {}).get(VALUE, {})
        if not isinstance(element, dict):
            raise ValueError(f"{block}: not an input")
        if block == STATUS:
            chosen = element.get("selected_option") or {}
            fields[block] = str(chosen.get("value") or "")
        else:
            fields[block] = str(element.get("value") or "")
    return fields


def block_of(problem: str) -> str:
    """The form's block a refusal is about ("impact: say who..." is the impact's), else the
    status block, where a refusal of the whole update is shown."""
    field, _, _ = problem.partition(":")
    return FIELD_BLOCKS.get(field.strip(), STATUS)
