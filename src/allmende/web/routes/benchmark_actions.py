"""What owners do on the benchmark pages: define a round, close joining, cancel a round, join another
node's round with this node's values.

The form of a new round has three KPI rows (rows left empty are ignored: no JavaScript needed); each
field's mistake is shown at the field, and what the benchmarking service still refuses is shown above
the form, with nothing stored. Joining goes by the round's address (the organiser's address and the
round's id), or by the organiser's address alone: this node then asks the organiser which rounds are
open to it (members-only rounds count only with a membership) and lists them to choose from. The
values typed stay on this node; only random shares of them leave it when the round starts.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.benchmarking import listing, organiser, participant
from allmende.benchmarking.calls import parse_round_url, round_url
from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.kpis import MAX_BUCKETS, MAX_KPIS, Kpi, kpis_from_json
from allmende.benchmarking.roster import MAX_PARTICIPANTS
from allmende.benchmarking.states import IllegalMove, is_final
from allmende.clock import isoformat, utcnow
from allmende.network.records import MembershipRecord
from allmende.node import Node
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.benchmark_pages import item_context, item_href, item_page, list_page, problem_text
from allmende.web.routes.benchmark_views import default_deadline, kpis_of, parse_local, when_text
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Owner, checked_form
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)

KPI_ROWS = 3
KPI_PARTS = ("name", "label", "unit", "lower", "upper", "buckets")
KPI_FIELDS = tuple(f"kpi{row}_{part}" for row in range(1, KPI_ROWS + 1) for part in KPI_PARTS)
FIELDS = (
    "title",
    "description",
    "min_participants",
    "deadline",
    "threshold",
    "community",
    "epsilon",
    *KPI_FIELDS,
)
_KPI_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}")


def _communities(session: Session, node: Node) -> list[tuple[str, str]]:
    """(DID, name) of the communities a round can be restricted to: this node's own directory, if it
    runs one, and those this node is an admitted member of."""
    found: list[tuple[str, str]] = []
    if node.settings.directory_enabled:
        found.append((node.did, str(node.settings.directory_name or node.name)))
    query = select(MembershipRecord).where(MembershipRecord.state == "admitted")
    for membership in session.execute(query).scalars():
        if membership.community not in {did for did, _ in found}:
            found.append((membership.community, membership.community_name or membership.community))
    return found


async def _form_page(
    request: Request, page: Page, form: FormState, *, problem: str = "", status: int = 200
) -> Response:
    node = node_of(request)
    communities = await in_read(node, lambda s: _communities(s, node))
    context = {"form": form, "problem": problem, "communities": communities, "kpi_rows": KPI_ROWS}
    return render(request, "benchmark_new.html", context, status=status, page=page)


@router.get("/benchmarks/new")
async def new_round(request: Request, page: Owner) -> Response:
    """The form to define a round: title, KPIs, minimum participants, deadline, optional restrictions."""
    values = {
        "min_participants": str(organiser.DEFAULT_MIN_PARTICIPANTS),
        "deadline": default_deadline(utcnow(), page.formats.zone),
    }
    values.update({f"kpi{row}_buckets": "10" for row in range(1, KPI_ROWS + 1)})
    return await _form_page(request, page, FormState(values=values))


def _number(state: FormState, name: str, message: str) -> float | None:
    text = state.get(name).replace(",", ".").replace("\u2212", "-")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        state.errors[name] = message
        return None
    if value != value or value in (float("inf"), float("-inf")):
        state.errors[name] = message
        return None
    return value


def _whole(state: FormState, name: str, message: str) -> int | None:
    text = state.get(name)
    if not text:
        return None
    if not text.isdigit():
        state.errors[name] = message
        return None
    return int(text)


def _kpi_row(state: FormState, page: Page, row: int) -> dict[str, Any] | None:
    """The KPI of one row; None for an empty row (errors go to the row's fields)."""
    t = page.gettext
    key = f"kpi{row}_"
    if not any(state.get(key + part) for part in KPI_PARTS if part != "buckets"):
        return None
    name = state.require(key + "name", t("Give the KPI a short name, e.g. oee."))
    if name and not _KPI_NAME.fullmatch(name):
        state.errors[key + "name"] = t("A short name: up to 60 letters, digits, _ . or -, no spaces.")
    if len(state.get(key + "label")) > 200:
        state.errors[key + "label"] = t("The description may have at most %(count)s characters.") % {
            "count": 200
        }
    if len(state.get(key + "unit")) > 40:
        state.errors[key + "unit"] = t("The unit may have at most %(count)s characters.") % {"count": 40}
    lower = _number(state, key + "lower", t("Give the lowest possible value as a number."))
    upper = _number(state, key + "upper", t("Give the highest possible value as a number."))
    if lower is None:
        state.errors.setdefault(key + "lower", t("Give the lowest possible value as a number."))
    if upper is None:
        state.errors.setdefault(key + "upper", t("Give the highest possible value as a number."))
    if lower is not None and upper is not None and not lower < upper:
        state.errors[key + "upper"] = t("The highest value must be above the lowest.")
    buckets = _whole(state, key + "buckets", t("Give the number of buckets as a whole number."))
    if buckets is not None and not 1 <= buckets <= MAX_BUCKETS:
        state.errors[key + "buckets"] = t("From 1 to %(most)s buckets.") % {"most": MAX_BUCKETS}
    return {
        "name": name,
        "label": state.get(key + "label"),
        "unit": state.get(key + "unit"),
        "lower": lower,
        "upper": upper,
        "buckets": 10 if buckets is None else buckets,
    }


def _checked(state: FormState, page: Page, communities: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The round's definition for ``organiser.create_round``, or None with the errors in ``state``."""
    t = page.gettext
    title = state.require("title", t("Give the round a title."))
    if len(title) > 300:
        state.errors["title"] = t("The title may have at most %(count)s characters.") % {"count": 300}
    if len(state.get("description")) > 4000:
        state.errors["description"] = t("The description may have at most %(count)s characters.") % {
            "count": 4000
        }
    kpis = [kpi for row in range(1, KPI_ROWS + 1) if (kpi := _kpi_row(state, page, row)) is not None]
    if not kpis:
        state.errors["kpi1_name"] = t("Define at least one KPI.")
    for row in range(2, KPI_ROWS + 1):
        name = state.get(f"kpi{row}_name")
        if name and name in [state.get(f"kpi{r}_name") for r in range(1, row)]:
            state.errors[f"kpi{row}_name"] = t("Each KPI needs its own short name.")
    message = t("A whole number from 3 to %(most)s.") % {"most": MAX_PARTICIPANTS}
    minimum = _whole(state, "min_participants", message)
    if minimum is None or not 3 <= minimum <= MAX_PARTICIPANTS:
        state.errors["min_participants"] = message
    deadline = parse_local(
        state.require("deadline", t("Give the date and time when joining closes.")), page.formats.zone
    )
    if deadline is None and "deadline" not in state.errors:
        state.errors["deadline"] = t("Give the date and time when joining closes.")
    elif deadline is not None and deadline <= utcnow():
        state.errors["deadline"] = t("The deadline must lie in the future.")
    threshold = _whole(state, "threshold", t("Leave it empty, or give a whole number of at least 2."))
    if threshold is not None and not 2 <= threshold <= MAX_PARTICIPANTS:
        state.errors["threshold"] = t("Leave it empty, or give a whole number of at least 2.")
    community = state.get("community")
    if community and community not in {did for did, _ in communities}:
        state.errors["community"] = t("Choose one of the communities listed.")
    epsilon = _number(state, "epsilon", t("Leave it empty, or give ε as a number above 0 and at most 100."))
    if epsilon is not None and not 0 < epsilon <= 100:
        state.errors["epsilon"] = t("Leave it empty, or give ε as a number above 0 and at most 100.")
    if not state.ok or deadline is None:
        return None
    return {
        "title": title,
        "description": state.get("description"),
        "kpis": kpis,
        "minParticipants": minimum,
        "deadline": isoformat(deadline),
        "threshold": threshold,
        "community": community or None,
        "epsilon": epsilon,
    }


@router.post("/benchmarks/new")
async def create_round(request: Request, page: Owner) -> Response:
    """Open the round: members join it at its address until the deadline or until it is closed."""
    form = await checked_form(request, page)
    state = FormState.of(form, *FIELDS)
    node = node_of(request)
    communities = await in_read(node, lambda s: _communities(s, node))
    spec = _checked(state, page, communities)
    if spec is None:
        return await _form_page(request, page, state, status=400)
    actor = actor_of(page)
    try:
        record = await in_transaction(node, lambda s: organiser.create_round(s, spec, actor))
    except BenchmarkError as error:
        return await _form_page(request, page, state, problem=problem_text(page, error.message), status=400)
    return RedirectResponse(f"{item_href(record.id)}?notice=created", status_code=303)


async def _round_action(request: Request, page: Owner, round_id: str, action: str) -> Response:
    await checked_form(request, page)
    context = await item_context(request, round_id)
    if "round" not in context:
        return await item_page(
            request, page, round_id, problem=page.gettext("Only the organiser can do this."), status=409
        )
    node = node_of(request)
    actor = actor_of(page)
    step = organiser.close if action == "close" else organiser.cancel
    try:
        await in_transaction(node, lambda s: step(s, node, round_id, actor))
    except BenchmarkError as error:
        return await item_page(request, page, round_id, problem=problem_text(page, error.message), status=409)
    except IllegalMove as error:
        return await item_page(request, page, round_id, problem=problem_text(page, str(error)), status=409)
    notice = "closed" if action == "close" else "cancelled"
    return RedirectResponse(f"{item_href(round_id)}?notice={notice}", status_code=303)


@router.post("/benchmarks/{round_id}/close")
async def close_round(request: Request, page: Owner, round_id: str) -> Response:
    """Close joining now: the participant list goes out and sharing starts (or, too few, the round fails)."""
    return await _round_action(request, page, round_id, "close")


@router.get("/benchmarks/{round_id}/cancel")
async def confirm_cancel(request: Request, page: Owner, round_id: str) -> Response:
    context = await item_context(request, round_id)
    if "round" not in context or is_final(context["state"]):
        problem = page.gettext("This round cannot be cancelled (any more).")
        return await item_page(request, page, round_id, problem=problem, status=409)
    return render(request, "benchmark_cancel.html", context, page=page)


@router.post("/benchmarks/{round_id}/cancel")
async def cancel_round(request: Request, page: Owner, round_id: str) -> Response:
    """Stop a round that is not over; it releases nothing, and its participants are told."""
    return await _round_action(request, page, round_id, "cancel")


def _round_address(state: FormState, page: Page) -> str | None:
    """The round's address from the organiser's address and the round id (or a whole round address)."""
    t = page.gettext
    address = state.require("address", t("Give the address of the organiser's node, or the round's address."))
    round_id = state.get("round").strip().lower()
    if not address:
        return None
    url = round_url(address.rstrip("/"), round_id) if round_id else address
    try:
        parse_round_url(url)
    except BenchmarkError:
        field = "round" if round_id else "address"
        state.errors[field] = t(
            "This is no round address. Give the organiser's address (https://…) and the round's id "
            "(32 characters), or the round's whole address (…/benchmarks/rounds/…)."
        )
        return None
    return url.strip()


async def _join_page(
    request: Request, page: Page, form: FormState, *, problem: str = "", status: int = 200
) -> Response:
    """The round as its organiser shows it, with a field for this node's value of each KPI."""
    url = _round_address(form, page)
    if url is None:
        return await list_page(request, page, join_form=form, status=400)
    try:
        definition = await participant.fetch_round(node_of(request), url)
        kpis = kpis_from_json(definition.get("kpis"))
    except BenchmarkError as error:
        return await _refused(request, page, form, error)
    context = {
        "form": form,
        "round": definition,
        "kpis": kpis,
        "problem": problem,
        "when_text": lambda text: when_text(text, page.formats),
    }
    return render(request, "benchmark_join.html", context, status=status, page=page)


@router.get("/benchmarks/join")
async def join_form(request: Request, page: Owner, address: str = "", round: str = "") -> Response:
    """Look up another node's round by its address, then show the form to join it with this node's values;
    with only the organiser's address, the rounds open to this node there."""
    form = FormState(values={"address": address.strip(), "round": round.strip()})
    if _organiser_only(form.get("address"), form.get("round")):
        return await _open_rounds_page(request, page, form)
    return await _join_page(request, page, form)


async def _refused(request: Request, page: Page, form: FormState, error: BenchmarkError) -> Response:
    """The overview with the join form as typed and why the organiser's node could not be used."""
    problem = problem_text(page, error.message)
    return await list_page(request, page, join_form=form, problem=problem, status=409)


def _organiser_only(address: str, round_id: str) -> bool:
    if round_id or not address.startswith(("http://", "https://")):
        return False
    try:
        parse_round_url(address)
    except BenchmarkError:
        return True
    return False


async def _open_rounds_page(request: Request, page: Page, form: FormState) -> Response:
    """The rounds the organiser at the address lists as open to this node, each with a link to join."""
    address = form.get("address").rstrip("/")
    try:
        rounds = await listing.fetch_open_rounds(node_of(request), address)
    except BenchmarkError as error:
        return await _refused(request, page, form, error)
    context = {
        "address": address,
        "rounds": rounds,
        "kpis_of": lambda view: kpis_of(view.get("kpis")),
        "when_text": lambda text: when_text(text, page.formats),
    }
    return render(request, "benchmark_open.html", context, page=page)


def _values(state: FormState, page: Page, kpis: tuple[Kpi, ...]) -> dict[str, float]:
    """This node's values by KPI name (empty fields left out); errors go to their fields."""
    t = page.gettext
    values: dict[str, float] = {}
    for index, kpi in enumerate(kpis, start=1):
        field = f"value_{index}"
        value = _number(state, field, t("Give the value as a number, e.g. 71.5."))
        if value is None:
            continue
        if not kpi.lower <= value <= kpi.upper:
            state.errors[field] = t("The value must lie between %(lower)s and %(upper)s.") % {
                "lower": page.formats.number(kpi.lower),
                "upper": page.formats.number(kpi.upper),
            }
            continue
        values[kpi.name] = value
    if not values and state.ok:
        state.errors["value_1"] = t("Give your value for at least one KPI.")
    return values


@router.post("/benchmarks/join")
async def join_round(request: Request, page: Owner) -> Response:
    """Join the round with this node's values (they stay here; only random shares of them leave)."""
    form = await checked_form(request, page)
    state = FormState.of(form, "address", "round", *(f"value_{i}" for i in range(1, MAX_KPIS + 1)))
    url = _round_address(state, page)
    if url is None:
        return await list_page(request, page, join_form=state, status=400)
    node = node_of(request)
    try:
        definition = await participant.fetch_round(node, url)
        kpis = kpis_from_json(definition.get("kpis"))
    except BenchmarkError as error:
        return await _refused(request, page, state, error)
    values = _values(state, page, kpis)
    if not state.ok:
        return await _join_page(request, page, state, status=400)
    try:
        record = await participant.join(node, url, values, actor_of(page))
    except BenchmarkError as error:
        return await _join_page(request, page, state, problem=problem_text(page, error.message), status=409)
    return RedirectResponse(f"{item_href(record.id)}?notice=joined", status_code=303)
