"""A job request as a consumer sends it, read and validated (pure).

JSON shape (``POST /compute/v1/jobs`` and the management API)::

    {"agreementId": "...", "title": "Average spindle load per shift",
     "algorithm": {"kind": "sql", "runtime": "duckdb-sql/1", "code": "SELECT ..."},
     "groupSizeColumn": "n",
     "privacy": {"epsilon": 0.5, "columns": [{"name": "avg_load", "statistic": "mean",
                                                "lower": 0, "upper": 100}]}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from allmende.compute.algorithm import AlgorithmBundle, AlgorithmError, make_bundle
from allmende.compute.privacy import NoiseColumn, PrivacyError, PrivacyRequest
from allmende.compute.runtime import validate_table_name

# the runtime ids of sql_runtime and python_runtime (not imported here: they load DuckDB and more)
DEFAULT_RUNTIMES = {"sql": "duckdb-sql/1", "python": "python-3.11-numpy-pandas/1"}
MAX_TITLE = 300


class JobRequestError(ValueError):
    """The request is malformed; the message names the field."""


@dataclass(frozen=True)
class JobRequest:
    """What the consumer asks the provider to run."""

    agreement_id: str
    bundle: AlgorithmBundle
    title: str = ""
    group_size_column: str = "n"
    privacy: PrivacyRequest | None = None

    def options(self) -> dict[str, Any]:
        """How the request is stored with the job (and sent on by the consumer)."""
        stored: dict[str, Any] = {"groupSizeColumn": self.group_size_column}
        if self.privacy is not None:
            stored["privacy"] = privacy_to_json(self.privacy)
        return stored

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "agreementId": self.agreement_id,
            "title": self.title,
            "algorithm": {"kind": self.bundle.kind, "runtime": self.bundle.runtime, "code": self.bundle.code},
        }
        return body | self.options()


def privacy_to_json(privacy: PrivacyRequest) -> dict[str, Any]:
    return {
        "epsilon": privacy.epsilon,
        "columns": [
            {"name": c.name, "statistic": c.statistic, "lower": c.lower, "upper": c.upper}
            for c in privacy.columns
        ],
    }


def _text(data: Mapping[str, Any], key: str, *, limit: int, required: bool = True) -> str:
    value = data.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        raise JobRequestError(f"'{key}' must be a non-empty string")
    if len(value) > limit:
        raise JobRequestError(f"'{key}' is longer than {limit} characters")
    return value.strip()


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JobRequestError(f"'{field}' must be a number")
    return float(value)


def privacy_from_json(data: object) -> PrivacyRequest | None:
    """The noise request, or None; :class:`JobRequestError` names what is wrong."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise JobRequestError("'privacy' must be an object")
    columns = data.get("columns")
    if not isinstance(columns, list) or not columns:
        raise JobRequestError("'privacy.columns' must list the columns to noise")
    try:
        return PrivacyRequest(
            _number(data.get("epsilon"), "privacy.epsilon"),
            tuple(
                NoiseColumn(
                    _text(column, "name", limit=200),
                    _text(column, "statistic", limit=20),  # type: ignore[arg-type]
                    _number(column.get("lower", 0.0), "privacy.columns.lower"),
                    _number(column.get("upper", 0.0), "privacy.columns.upper"),
                )
                if isinstance(column, Mapping)
                else _not_an_object()
                for column in columns
            ),
        )
    except PrivacyError as exc:
        raise JobRequestError(f"privacy: {exc}") from None


def _not_an_object() -> NoiseColumn:
    raise JobRequestError("each of 'privacy.columns' must be an object")


def job_request_from_json(data: object) -> JobRequest:
    """Read a job request; raises :class:`JobRequestError` saying what is wrong."""
    if not isinstance(data, Mapping):
        raise JobRequestError("the request must be a JSON object")
    algorithm = data.get("algorithm")
    if not isinstance(algorithm, Mapping):
        raise JobRequestError("'algorithm' must be an object with kind, runtime and code")
    kind = algorithm.get("kind")
    if not isinstance(kind, str) or kind not in DEFAULT_RUNTIMES:
        raise JobRequestError(f"'algorithm.kind' must be one of: {', '.join(DEFAULT_RUNTIMES)}")
    runtime = algorithm.get("runtime") or DEFAULT_RUNTIMES[kind]
    code = algorithm.get("code")
    if not isinstance(runtime, str) or not isinstance(code, str):
        raise JobRequestError("'algorithm.runtime' and 'algorithm.code' must be strings")
    try:
        bundle = make_bundle(kind, code, runtime)
    except AlgorithmError as exc:
        raise JobRequestError(f"algorithm: {exc}") from None
    column = data.get("groupSizeColumn", "n")
    if not isinstance(column, str):
        raise JobRequestError("'groupSizeColumn' must be a string")
    try:
        validate_table_name(column)
    except ValueError:
        raise JobRequestError("'groupSizeColumn' must be a plain column name") from None
    return JobRequest(
        agreement_id=_text(data, "agreementId", limit=200),
        bundle=bundle,
        title=_text(data, "title", limit=MAX_TITLE, required=False),
        group_size_column=column,
        privacy=privacy_from_json(data.get("privacy")),
    )
