"""Adapter from the SolidLab ODRL test suite (Turtle) to the Allmende policy model and evaluation context.

Mapping (documented in docs/policies.md):
- ``odrl:Set`` with ``odrl:permission`` / ``odrl:prohibition`` -> ``Policy`` with ``Permission`` /
  ``Prohibition``; each rule keeps its IRI as uid so the expected rule report can be matched.
- A rule without ``odrl:action`` applies to every action. ODRL 2.2 has two top-level actions, ``use`` and
  ``transfer``, so such a rule becomes two rules (same uid) on ``use`` and on ``transfer``.
- Constraints (atomic and logical) map one to one; typed literals keep their lexical form and datatype.
- Duties keep their IRI as uid. A ``report:DutyReport`` in the state of the world with deontic state
  ``report:Violated`` marks that duty as violated (``EvaluationContext.violated_duties``).
- Request: ``odrl:assignee`` / ``odrl:action`` / ``odrl:target`` of the requested permission.
- State of the world: ``temp:currentTime dct:issued`` is ``now``; ``X odrl:partOf C`` puts C among the
  party collections (X = requesting party) or the target collections (X = requested asset).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from allmende.clock import parse_datetime
from allmende.policy import (
    Constraint,
    ConstraintNode,
    Duty,
    EvaluationContext,
    LogicalConstraint,
    Permission,
    Policy,
    Prohibition,
)

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
EX = Namespace("http://example.org/")
REPORT = Namespace("https://w3id.org/force/compliance-report#")
DCT = Namespace("http://purl.org/dc/terms/")
TEMP = Namespace("http://example.com/request/")
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
SUITE = Path(__file__).parent / "data" / "odrl" / "solidlab-odrl-test-suite" / "data"


@dataclass(frozen=True)
class ExpectedRule:
    """One rule report of the expected compliance report."""

    kind: str  # "PermissionReport" or "ProhibitionReport"
    rule: str
    active: bool


@dataclass(frozen=True)
class SolidLabCase:
    """A test case mapped to the Allmende model."""

    name: str
    title: str
    policy: Policy
    context: EvaluationContext
    expected: tuple[ExpectedRule, ...]


def _graphs(folder: str) -> dict[Node, Graph]:
    """Each resource declared in the folder's files -> the graph of its own file."""
    found: dict[Node, Graph] = {}
    for path in sorted((SUITE / folder).glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        for subject in set(graph.subjects(RDF.type, None)):
            found.setdefault(subject, graph)
    return found


def _term(node: Node) -> str:
    return str(node)


def _constraint(graph: Graph, node: Node) -> ConstraintNode:
    for operator in ("and", "or", "xone", "andSequence"):
        children = list(graph.objects(node, ODRL[operator]))
        if children:
            parts = tuple(_constraint(graph, child) for child in sorted(children, key=str))
            return LogicalConstraint(operator, parts)  # type: ignore[arg-type]
    right = graph.value(node, ODRL.rightOperand)
    data_type = None
    if isinstance(right, Literal) and right.datatype is not None:
        data_type = str(right.datatype).replace(XSD_NS, "xsd:")
    return Constraint(
        left_operand=_term(graph.value(node, ODRL.leftOperand)),
        operator=_term(graph.value(node, ODRL.operator)),
        right_operand=str(right),
        data_type=data_type,
    )


def _rule_fields(graph: Graph, node: Node) -> dict[str, object]:
    optional = {key: graph.value(node, ODRL[key]) for key in ("assignee", "assigner", "target")}
    return {
        "constraints": tuple(
            _constraint(graph, c) for c in sorted(graph.objects(node, ODRL.constraint), key=str)
        ),
        "uid": str(node),
        **{key: (str(value) if value is not None else None) for key, value in optional.items()},
    }


def _actions(graph: Graph, node: Node) -> list[str]:
    actions = [str(action) for action in graph.objects(node, ODRL.action)]
    return actions or ["use", "transfer"]


def read_policy(graph: Graph, node: Node) -> Policy:
    """The ODRL policy ``node`` of ``graph`` as an Allmende ``Policy``."""
    permissions = []
    for rule in sorted(graph.objects(node, ODRL.permission), key=str):
        duties = tuple(Duty(str(graph.value(duty, ODRL.action)), uid=str(duty))
                       for duty in graph.objects(rule, ODRL.duty))  # fmt: skip
        permissions += [Permission(action, duties=duties, **_rule_fields(graph, rule))  # type: ignore[arg-type]
                        for action in _actions(graph, rule)]  # fmt: skip
    prohibitions = [Prohibition(action, **_rule_fields(graph, rule))  # type: ignore[arg-type]
                    for rule in sorted(graph.objects(node, ODRL.prohibition), key=str)
                    for action in _actions(graph, rule)]  # fmt: skip
    kind = str(graph.value(node, RDF.type)).rsplit("/", 1)[-1]
    return Policy(str(node), kind, None, None, None, tuple(permissions), tuple(prohibitions))  # type: ignore[arg-type]


def read_context(request_graph: Graph, request: Node, sotw_graph: Graph) -> EvaluationContext:
    """The request and state of the world as an ``EvaluationContext``."""
    asked = request_graph.value(request, ODRL.permission)
    assignee = str(request_graph.value(asked, ODRL.assignee))
    target = str(request_graph.value(asked, ODRL.target))
    now = parse_datetime(str(sotw_graph.value(TEMP.currentTime, DCT.issued)))
    memberships = {
        (str(member), str(collection)) for member, collection in sotw_graph.subject_objects(ODRL.partOf)
    }
    violated = {str(sotw_graph.value(report, REPORT.rule))
                for report in sotw_graph.subjects(REPORT.deonticState, REPORT.Violated)}  # fmt: skip
    return EvaluationContext(
        now=now,
        assignee=assignee,
        action=str(request_graph.value(asked, ODRL.action)),
        target=target,
        party_collections=frozenset(c for member, c in memberships if member == assignee),
        target_collections=frozenset(c for member, c in memberships if member == target),
        violated_duties=frozenset(violated),
    )


def load_cases() -> list[SolidLabCase]:
    """All test cases of the suite, in file order."""
    policies, requests, worlds = _graphs("policies"), _graphs("requests"), _graphs("sotw")
    cases = []
    for path in sorted((SUITE / "test_cases").glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        case = graph.value(None, RDF.type, EX.TestCase)
        policy, request, world = (graph.value(case, EX[key]) for key in ("policy", "request", "sotw"))
        report = graph.value(case, EX.expectedReport)
        expected = tuple(
            ExpectedRule(
                kind=str(graph.value(rule_report, RDF.type)).rsplit("#", 1)[-1],
                rule=str(graph.value(rule_report, REPORT.rule)),
                active=graph.value(rule_report, REPORT.activationState) == REPORT.Active,
            )
            for rule_report in graph.objects(report, REPORT.ruleReport)
        )
        cases.append(
            SolidLabCase(
                name=path.stem,
                title=str(graph.value(case, DCT.title)),
                policy=read_policy(policies[policy], policy),
                context=read_context(requests[request], request, worlds[world]),
                expected=expected,
            )
        )
    return cases


def is_active(
    rule: URIRef | str, kind: str, permitted: tuple[Permission, ...], prohibited: tuple[Prohibition, ...]
) -> bool:
    """Whether the evaluator found the rule with this uid active."""
    rules = permitted if kind == "PermissionReport" else prohibited
    return any(found.uid == str(rule) for found in rules)
