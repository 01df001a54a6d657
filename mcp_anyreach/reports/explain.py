"""Who answers a call to one of our numbers: the documented decision order, walked step by step.

The order (API-CONTRACT.md, inbound routing): the number must be in the directory; its trunk must admit
the call (a BYOC trunk's allowed callers; its allowed addresses cannot be judged from a phone number);
with no routing config, or a disabled one, the number's own inbound agent answers, else nobody; with an
enabled one, its workflow picks the agent at call time, may reject the call, and when it fails or times
out the fallback agent answers, else nobody.

`nobody_answers` is that order reduced to what the audit needs, so the audit and this explanation can
never disagree about a number.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from mcp_anyreach.api import AnyreachClient, InboundRoutingConfig, NotFoundError, PhoneNumber, Trunk
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.domain.agent_names import AgentNames
from mcp_anyreach.domain.records import Result
from mcp_anyreach.domain.text import listed, named, shown
from mcp_anyreach.domain.uris import ROUTING_URI, number_uri, trunk_uri
from mcp_anyreach.domain.workflows import unverified

Outcome = Literal[
    "answered",
    "depends_on_caller",
    "reaches_inactive_agent",
    "workflow_decides",
    "dropped",
    "not_admitted",
    "not_in_directory",
]


class CallStep(Result):
    check: Literal["directory", "trunk", "routing", "workflow", "fallback", "number_agent"]
    finding: str
    source: str | None = None


class CallExplanation(Result):
    phone_number: str
    caller_number: str | None = None
    outcome: Outcome
    answer: str
    agent: str | None = None
    fallback_agent: str | None = None
    fix: str | None = None  # the tool that makes the call reach an agent, when it may not
    steps: list[CallStep]


def routing_decides(routing: InboundRoutingConfig | None) -> bool:
    """An enabled routing config's workflow picks the agent for every call, whatever the number's slot holds."""
    return routing is not None and routing.enabled


def nobody_answers(number: PhoneNumber, routing: InboundRoutingConfig | None) -> bool:
    """Every call to `number` is dropped: no workflow decides, and no agent is on its inbound slot."""
    return not routing_decides(routing) and number.inbound_agent_version_id is None


async def explain_inbound_call(
    client: AnyreachClient, names: AgentNames, phone_number: str, caller_number: str | None = None
) -> CallExplanation:
    """Read the number, its trunk, the routing config and the agents, and walk the decision order.

    Raise AnyreachError when the API fails (a 404 for the number is an answer, not a failure).
    """
    try:
        number: PhoneNumber | None = await client.phone_numbers.get(phone_number)
    except NotFoundError:
        number = None
    trunk = None
    if number is not None:
        try:
            trunk = await client.trunks.get(number.trunk_id)
        except NotFoundError:
            trunk = None
    routing = await client.inbound_routing.get() if number is not None else None
    # Names for the agent ids; without the agents:read scope the explanation shows ids only.
    directory = await names.directory() if number is not None else None
    return decide(phone_number, caller_number, number, trunk, routing, directory)


def decide(
    phone_number: str,
    caller_number: str | None,
    number: PhoneNumber | None,
    trunk: Trunk | None,
    routing: InboundRoutingConfig | None,
    directory: AgentDirectory | None,
) -> CallExplanation:
    """The decision order over what was read; no I/O."""
    steps: list[CallStep] = []
    if number is None:
        steps.append(CallStep(check="directory", finding=f"{phone_number} is not in the directory."))
        verdict = _Verdict(
            "not_in_directory",
            "Anyreach does not receive calls to it: it is not in the directory.",
            fix="register_phone_number adds a number you own (on a BYOC trunk); purchase_phone_number buys one.",
        )
    else:
        source = number_uri(number.phone_number)
        finding = f"In the directory, on trunk {shown(number.trunk_id)}."
        steps.append(CallStep(check="directory", finding=finding, source=source))
        refusal = _trunk_step(number, trunk, caller_number, steps)
        if refusal is not None:
            verdict = refusal
        elif routing is None or not routing.enabled:
            verdict = _own_agent(number, routing, directory, steps)
        else:
            verdict = _workflow(routing, directory, steps)
        if refusal is None and trunk is not None:
            verdict = _admission_condition(verdict, trunk, caller_number)
    return CallExplanation(
        phone_number=phone_number,
        caller_number=caller_number,
        outcome=verdict.outcome,
        answer=verdict.answer,
        agent=verdict.agent,
        fallback_agent=verdict.fallback,
        fix=verdict.fix,
        steps=steps,
    )


class _Verdict(NamedTuple):
    outcome: Outcome
    answer: str
    agent: str | None = None
    fallback: str | None = None
    fix: str | None = None


def _admission_condition(verdict: _Verdict, trunk: Trunk, caller: str | None) -> _Verdict:
    """What the outcome depends on that this explanation cannot know: which caller calls (when none was given
    and the trunk admits only some), and the address the carrier sends the call from."""
    inbound = trunk.inbound_config
    if verdict.outcome not in ("answered", "workflow_decides") or inbound is None or trunk.managed_account_id:
        return verdict
    outcome, answer = verdict.outcome, verdict.answer
    if inbound.allowed_numbers and caller is None:
        callers = listed([shown(value) for value in inbound.allowed_numbers], 5)
        answer = (
            f"Only callers in the trunk's allowed_numbers ({callers}) get through; for them: {answer} "
            "Any other caller is refused. Give caller_number for one caller's answer."
        )
        outcome = "depends_on_caller" if outcome == "answered" else outcome
    if inbound.allowed_addresses:
        answer += " This holds only if the carrier sends the call from one of the trunk's allowed_addresses."
    return verdict._replace(outcome=outcome, answer=answer)


def _own_agent(
    number: PhoneNumber, routing: InboundRoutingConfig | None, directory: AgentDirectory | None, steps: list[CallStep]
) -> _Verdict:
    state = "there is no inbound routing config" if routing is None else "the inbound routing config is disabled"
    finding = f"{_capital(state)}: the number's own inbound agent answers."
    steps.append(CallStep(check="routing", finding=finding, source=None if routing is None else ROUTING_URI))
    agent = _slot_label(number.inbound_agent_version_id, directory)
    source = number_uri(number.phone_number)
    if agent is None:
        steps.append(CallStep(check="number_agent", finding="Its inbound slot is empty.", source=source))
        return _Verdict(
            "dropped",
            f"The call is disconnected: {state}, and no agent is on the number's inbound slot.",
            fix=f"assign_agent_to_numbers with phone_numbers [{number.phone_number}] puts an agent on its slot.",
        )
    steps.append(CallStep(check="number_agent", finding=f"Its inbound slot holds {agent}.", source=source))
    if _inactive(number.inbound_agent_version_id, directory):
        answer = (
            f"The call reaches {agent}, which is switched off (active: false), so nobody may answer; "
            "put an active agent on the number with assign_agent_to_numbers."
        )
        fix = f"assign_agent_to_numbers with phone_numbers [{number.phone_number}] puts an active agent on its slot."
        return _Verdict("reaches_inactive_agent", answer, agent=agent, fix=fix)
    return _Verdict("answered", f"{_capital(agent)} answers.", agent=agent)


def _workflow(routing: InboundRoutingConfig, directory: AgentDirectory | None, steps: list[CallStep]) -> _Verdict:
    if routing.workflow_id:
        version = f"version {routing.workflow_version}" if routing.workflow_version else "(latest published version)"
        workflow = f"workflow {shown(routing.workflow_id)} {version}"
    else:
        workflow = "the inline workflow of the routing config"
    reason = unverified(routing.model_dump())
    doubt = f" {_capital(reason)}." if reason else ""
    steps.append(
        CallStep(check="routing", finding=f"Routing is enabled and runs {workflow}.{doubt}", source=ROUTING_URI)
    )
    finding = (
        "At call time it receives caller_number, called_number and trunk_id, and returns the agent that answers "
        "(its latest published version unless it names one), or reject to disconnect."
    )
    steps.append(CallStep(check="workflow", finding=finding))
    fallback = _agent_label(routing.fallback_agent_id, directory) if routing.fallback_agent_id else None
    agent = directory.agent(routing.fallback_agent_id) if directory and routing.fallback_agent_id else None
    off = agent is not None and not agent.active
    failed = f"{fallback} answers" if fallback else "the call is disconnected (no fallback_agent_id)"
    failed += ", which is switched off" if off else ""
    on_failure = f"if it fails or times out, {failed}"
    steps.append(CallStep(check="fallback", finding=f"{_capital(on_failure)}.", source=ROUTING_URI))
    wrong = f" {_capital(reason)}: if it is wrong, it fails and {failed}." if reason else ""
    answer = (
        f"{_capital(workflow)} picks the agent for each call, so who answers may depend on the caller and the "
        f"time; {on_failure}.{wrong} The number's own inbound agent is not used while routing is enabled."
    )
    fix = None if fallback else "update_inbound_routing_config with fallback_agent_id answers the calls it fails."
    return _Verdict("workflow_decides", answer, fallback=fallback, fix=fix)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _trunk_step(number: PhoneNumber, trunk: Trunk | None, caller: str | None, steps: list[CallStep]) -> _Verdict | None:
    """Add the trunk's step; return the verdict when the call is not admitted, or None."""
    source = trunk_uri(number.trunk_id)
    if trunk is None:
        steps.append(CallStep(check="trunk", finding=f"Trunk {shown(number.trunk_id)} was not found.", source=source))
        return _Verdict(
            "not_admitted",
            f"The number's trunk {shown(number.trunk_id)} does not exist, so no call can reach the number.",
            fix="move_phone_numbers puts the number on a trunk that exists (list_trunks).",
        )
    label = f"{trunk.kind} trunk {named(trunk.name)!r}"
    if trunk.managed_account_id:
        steps.append(CallStep(check="trunk", finding=f"On the {label}: calls arrive through Anyreach.", source=source))
        return None
    inbound = trunk.inbound_config
    allowed = list(inbound.allowed_numbers) if inbound else []
    addresses = list(inbound.allowed_addresses) if inbound else []
    if allowed and caller is not None and caller not in allowed:
        finding = f"On the {label}, which admits only the callers in its allowed_numbers; {caller} is not one."
        steps.append(CallStep(check="trunk", finding=finding, source=source))
        return _Verdict(
            "not_admitted",
            f"The {label} refuses the call: {caller} is not in its allowed_numbers.",
            fix=f"update_trunk with inbound.allowed_numbers including {caller} admits this caller.",
        )
    if allowed and caller is None:
        callers = f"only the callers {listed([shown(value) for value in allowed], 5)}"
    elif allowed:
        callers = f"{caller}, one of its allowed_numbers"
    else:
        callers = "any caller"
    where = f"only from {listed([shown(value) for value in addresses], 5)}" if addresses else "from any address"
    finding = (
        f"On the {label}, which admits {callers}. The carrier must send the call {where} "
        "(an address cannot be judged from a phone number)."
    )
    steps.append(CallStep(check="trunk", finding=finding, source=source))
    return None


def _slot_label(version_id: str | None, directory: AgentDirectory | None) -> str | None:
    """`agent 'Support' v2 (agt_...)`; an id the directory does not know is shown as it is."""
    if version_id is None:
        return None
    ref = directory.resolve(version_id) if directory else None
    if ref is None:
        return f"agent version {shown(version_id)}"
    inactive = ", inactive" if not ref.agent_active else ""
    return f"agent {shown(ref.agent_name)!r} v{ref.version} ({shown(ref.agent_id)}{inactive})"


def _inactive(version_id: str | None, directory: AgentDirectory | None) -> bool:
    ref = directory.resolve(version_id) if directory and version_id else None
    return ref is not None and not ref.agent_active


def _agent_label(agent_id: str, directory: AgentDirectory | None) -> str:
    agent = directory.agent(agent_id) if directory else None
    if agent is None:
        return f"agent {shown(agent_id)}"
    return f"agent {named(agent.name)!r} ({shown(agent_id)}{'' if agent.active else ', inactive'})"
