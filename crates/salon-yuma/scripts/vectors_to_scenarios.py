#!/usr/bin/env python3
"""Converts the golden cases of tests/data/vectors.json into replayable scenario files.

Run from crates/salon-yuma:  python3 scripts/vectors_to_scenarios.py
The upstream cases describe their steps in prose, so each case is translated here by hand into
scenario steps (register / set_weights / epoch ...). Checks come from the case's `expect` entries
(upstream assertions) and from its `derived_reference_outputs` (the reference port's stored outputs).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
V = json.load(open(os.path.join(ROOT, "tests", "data", "vectors.json")))
CASES = {c["name"]: c for c in V["cases"]}

# Fields of a derived output entry -> fields of the replay record.
DERIVED = {
    "stake_weight_u16": "stake_weight_u16",
    "active": "active",
    "validator_permit_after": "validator_permit",
    "consensus_u16": "consensus_u16",
    "incentive_u16": "incentive_u16",
    "dividends_u16": "dividends_u16",
    "validator_trust_u16": "validator_trust_u16",
    "emission_rao": "emission_rao",
    "server_emission_rao": "server_emission_rao",
    "validator_emission_rao": "validator_emission_rao",
    "bonds_u16_after (dense matrix, row=validator, col=neuron)": "bonds_u16",
}


def check(field, value, index=None, op="eq", tol=0):
    c = {"field": field, "value": value}
    if index:
        c["index"] = index
    if op != "eq":
        c["op"] = op
    if tol:
        c["tolerance"] = tol
    return c


def derived_checks(entry, skip=()):
    return [check(DERIVED[k], entry[k]) for k in DERIVED if k in entry and DERIVED[k] not in skip]


def parse_expect(expect):
    """Turns upstream `expect` dicts like {"bonds_u16[0][4]": 16383} into checks."""
    out = []
    for key, val in expect.items():
        if key in ("rank", "trust", "stake_each", "stake_of_hotkey"):
            continue  # rank/trust are always 0 upstream; stake is an input
        name, _, rest = key.partition("[")
        idx = [int(x) for x in rest.replace("]", "").split("[")] if rest else None
        out.append(check(name, val, idx))
    return out


def hp(case, **extra):
    base = {"weights_rate_limit": 0, "min_allowed_weights": 0}
    h = case.get("hyperparameters", {})
    for src, dst in [("tempo", "tempo"), ("yuma3", "yuma3"), ("commit_reveal", "commit_reveal"),
                     ("max_allowed_uids", "max_allowed_uids"), ("max_allowed_validators", "max_allowed_validators"),
                     ("immunity_period", "immunity_period"), ("min_allowed_weights", "min_allowed_weights"),
                     ("bonds_penalty_u16", "bonds_penalty"), ("kappa_u16", "kappa"),
                     ("bonds_moving_average", "bonds_moving_average"), ("liquid_alpha", "liquid_alpha"),
                     ("owner_uid", "owner_uid")]:
        if src in h and isinstance(h[src], (int, bool, type(None))):
            base[dst] = h[src]
    base.update(extra)
    return base


def ep(block, checks=(), dense=False):
    e = {"expect": list(checks)}
    if dense:
        e["dense"] = True
    return {"block": block, "epoch": e}


def sw(block, uid, dests, values):
    return {"block": block, "set_weights": {"uid": uid, "dests": dests, "values": values}}


def scenario(case, hyper, neurons, steps):
    return {"name": case["name"], "source": case.get("source"), "hyperparameters": hyper,
            "neurons": neurons, "steps": steps}


def with_derived(case, steps):
    """Attaches derived checks to the epoch steps, in order."""
    derived = [d for d in case["derived_reference_outputs"] if "block" in d]
    epochs = [s for s in steps if "epoch" in s]
    assert len(epochs) == len(derived), (case["name"], len(epochs), len(derived))
    for s, d in zip(epochs, derived):
        assert s["block"] == d["block"], (case["name"], s["block"], d["block"])
        s["epoch"]["expect"] = derived_checks(d) + s["epoch"]["expect"]
    return steps


def neurons_from(case, default_reg=1):
    return [{"uid": n["uid"], "stake": n["stake"], "registered_at": n.get("block_at_registration", default_reg)}
            for n in case["neurons"]]


def expects(case):
    return [s.get("expect") for s in case["steps"] if isinstance(s.get("expect"), dict)]


def test_1_graph():
    c = CASES["test_1_graph"]
    steps = [sw(1, 0, [0], [65535]), ep(1, parse_expect(expects(c)[0]))]
    return scenario(c, hp(c), [{"uid": 0, "stake": 1_000_000_000, "registered_at": 1}], with_derived(c, steps))


def test_10_graph():
    c = CASES["test_10_graph"]
    steps = [sw(1, i, [i], [65535]) for i in range(10)] + [ep(1, parse_expect(expects(c)[0]))]
    neurons = [{"uid": i, "stake": 1, "registered_at": 0} for i in range(10)]
    return scenario(c, hp(c), neurons, with_derived(c, steps))


def test_bonds():
    c = CASES["test_bonds"]
    ex = expects(c)
    vals = [16383, 32767, 49149, 65535]
    steps = [ep(1)] + [sw(2, u, [4, 5, 6, 7], vals) for u in range(4)] + [ep(2, parse_expect(ex[0]))]
    steps += [sw(2, 0, [0], [65535]), ep(3, parse_expect(ex[1]))]
    steps += [sw(3, 1, [1], [65535]), ep(4, parse_expect(ex[2]))]
    steps += [sw(4, 2, [2], [65535]), ep(5, parse_expect(ex[3]))]
    steps += [sw(5, 2, [7], [65535]), ep(6, parse_expect(ex[4])), ep(7, parse_expect(ex[5])),
              ep(8, parse_expect(ex[6])), ep(9)]
    return scenario(c, hp(c), neurons_from(c), with_derived(c, steps))


def test_active_stake():
    c = CASES["test_active_stake"]
    ex = expects(c)
    steps = [ep(0), sw(1, 0, [2, 3], [32767, 32767]), sw(1, 1, [2, 3], [32767, 32767])]
    first = parse_expect({k: v for k, v in ex[0].items() if not k.startswith("bonds_u16 rows")})
    first += [check("bonds_u16", [0, 0, 65535, 65535], [0]), check("bonds_u16", [0, 0, 65535, 65535], [1])]
    steps += [ep(1, first), sw(5002, 0, [2, 3], [32767, 32767]), ep(5002, parse_expect(ex[1]))]
    steps += [sw(5002, 1, [2, 3], [32767, 32767]), ep(5003, parse_expect(ex[2]))]
    neurons = [{"uid": i, "stake": 1, "registered_at": 0} for i in range(4)]
    return scenario(c, hp(c), neurons, with_derived(c, steps))


def test_outdated_weights():
    c = CASES["test_outdated_weights"]
    ex = expects(c)
    steps = [ep(1)] + [sw(2, u, [2, 3], [43690, 21845]) for u in (0, 1)]
    steps += [sw(2, u, [u], [65535]) for u in (2, 3)] + [ep(2)]
    steps += [{"block": 2, "register": {"stake": 0, "expect_uid": 3}}]
    steps += [sw(3, 0, [2, 3], [43690, 21845]), ep(3, parse_expect(ex[0]))]
    return scenario(c, hp(c), neurons_from(c), with_derived(c, steps))


def test_zero_weights():
    c = CASES["test_zero_weights"]
    ex = expects(c)
    steps = [ep(1, parse_expect(ex[0])), sw(1, 1, [1], [65535]), ep(1, parse_expect(ex[1]))]
    steps += [sw(2, 0, [1], [65535]), {"block": 2, "register": {"stake": 0, "expect_uid": 1}},
              ep(2, parse_expect(ex[2]))]
    steps += [sw(3, 0, [1], [65535]), ep(3, parse_expect(ex[3]))]
    return scenario(c, hp(c), neurons_from(c), with_derived(c, steps))


def test_deregistered_miner_bonds():
    c = CASES["test_deregistered_miner_bonds"]
    h = hp(c, tempo=65534, max_allowed_uids=4, max_allowed_validators=4, immunity_period=5000, min_allowed_weights=1)
    steps = [ep(1)] + [sw(2, u, [2, 3], [43690, 21845]) for u in (0, 1)]
    steps += [{"block": 4, "set_hyperparameters": {"tempo": 2}},
              ep(4, [check("bonds_u16", 0, [0, 2], "gt"), check("bonds_u16", 0, [0, 3], "gt")])]
    steps += [{"block": 5, "set_hyperparameters": {"tempo": 65534}},
              {"block": 5, "register": {"stake": 0, "expect_uid": 3}}]
    steps += [sw(5, u, [2, 3], [43690, 21845]) for u in (0, 1)]
    steps += [{"block": 6, "set_hyperparameters": {"tempo": 2}},
              ep(6, [check("bonds_u16", 65535, [0, 2], "ge"), check("bonds_u16", 65535, [0, 3], "le")])]
    # The warm-up epoch has no derived entry: attach derived checks to the two measured epochs only.
    derived = c["derived_reference_outputs"]
    measured = [s for s in steps if "epoch" in s][1:]
    for s, d in zip(measured, derived):
        assert s["block"] == d["block"]
        s["epoch"]["expect"] = derived_checks(d) + s["epoch"]["expect"]
    return scenario(c, h, neurons_from(c), steps)


def test_can_set_self_weight_as_subnet_owner():
    c = CASES["test_can_set_self_weight_as_subnet_owner"]
    h = {"tempo": 360, "yuma3": True, "commit_reveal": False, "owner_uid": 0, "weights_rate_limit": 0}
    neurons = [{"uid": 0, "stake": 5_000_000_000_000, "registered_at": 1}, {"uid": 1, "stake": 0, "registered_at": 1}]
    steps = [
        {"block": 2, "write_neuron": {"uid": 0, "validator_permit": True, "last_update": 2}},
        {"block": 2, "write_neuron": {"uid": 1, "validator_permit": False, "last_update": 0}},
        {"block": 2, "write_weights": {"uid": 0, "dests": [0, 1], "values": [32767, 32767]}},
        ep(2, [check("server_emission_rao", 0, [0], "gt"),
               check("server_emission_rao", ["server_emission_rao", 1], [0], "eq_field")]),
    ]
    return scenario(c, h, neurons, with_derived(c, steps))


def test_single_staker():
    c = CASES["test_epoch_outputs_single_staker_registered_no_weights"]
    h = {"tempo": 65534, "yuma3": True, "commit_reveal": True, "weights_rate_limit": 0}
    steps = [ep(1, [check("server_emission_rao+validator_emission_rao", 1_000_000_000, None, "sum_eq", 1000)])]
    return scenario(c, h, neurons_from(c), with_derived(c, steps))


def test_512(name, validators, server_self):
    c = CASES[name]
    h = hp(c, max_allowed_uids=512, max_allowed_validators=64)
    servers = [u for u in range(512) if u not in validators]
    neurons = [{"uid": u, "stake": 328125000000000 if u in validators else 0, "registered_at": 0} for u in range(512)]
    steps = [ep(1)] + [sw(1, v, servers, [127] * len(servers)) for v in validators]
    if server_self:
        steps += [sw(1, s, [s], [65535]) for s in servers]
    v0, s0 = validators[0], servers[0]
    n = 512
    last = [
        check("consensus_u16", [0 if u in validators else 146 for u in range(n)]),
        check("incentive_u16", [0 if u in validators else 146 for u in range(n)]),
        check("dividends_u16", [1023 if u in validators else 0 for u in range(n)]),
        check("emission_rao", [7812500 if u in validators else 1116071 for u in range(n)]),
    ]
    for u in range(n):
        if u in validators:
            last += [check("bonds_u16", 0, [u, v0]), check("bonds_u16", 65535, [u, s0])]
        else:
            last += [check("bonds_u16", 0, [u, v0]), check("bonds_u16", 0, [u, s0])]
    steps += [ep(1, dense=True), ep(1, dense=True), ep(1, last, dense=True)]
    return scenario(c, h, neurons, steps)


def epoch_logs_cases():
    """epoch_logs tests write storage directly and call epoch_mechanism once per mechanism: each
    (case, mechanism) becomes one scenario of raw storage writes plus one epoch."""
    common = V["epoch_logs_common"]
    out = []
    for c in V["cases"]:
        if not c["name"].startswith("epoch_logs::"):
            continue
        override = c.get("override", "")
        h = {"tempo": common["tempo"], "yuma3": "Yuma3On = true" in override, "commit_reveal": True,
             "max_allowed_validators": 1 if "MaxAllowedValidators = 1" in override else common["max_allowed_validators"],
             "kappa": common["kappa_u16"], "bonds_penalty": common["bonds_penalty_u16"],
             "bonds_moving_average": common["bonds_moving_average"],
             "emission_per_epoch": c.get("rao_emission", common["rao_emission"])}
        permits = [nn["validator_permit"] for nn in c["neurons"]]
        if "ValidatorPermit storage replaced by [true]" in override:
            permits = [True] + [False] * (len(permits) - 1)
        if "ValidatorPermit = [true, false]" in override:
            permits = [True, False]
        for k, d in enumerate(c["derived_reference_outputs"]):
            neurons = [{"uid": nn["uid"], "stake": nn["alpha_stake"], "registered_at": d["block_at_registration"][i]}
                       for i, nn in enumerate(c["neurons"])]
            steps = []
            for i in range(len(neurons)):
                steps.append({"block": d["block"], "write_neuron": {"uid": i, "last_update": d["last_update"][i],
                                                                     "validator_permit": permits[i]}})
                row = d["weights_stored_u16 (sparse rows [uid, value])"][i]
                if row:
                    steps.append({"block": d["block"], "write_weights": {"uid": i, "dests": [e[0] for e in row],
                                                                          "values": [e[1] for e in row]}})
            steps.append(ep(d["block"], derived_checks(d)))
            name = c["name"] + (f"[mechanism={d['mechanism']}]" if "mechanism" in d else "")
            out.append({"name": name, "source": c["source"], "hyperparameters": h, "neurons": neurons, "steps": steps})
    return out


def main():
    out = [test_1_graph(), test_10_graph(), test_bonds(), test_active_stake(), test_outdated_weights(),
           test_zero_weights(), test_deregistered_miner_bonds(), test_can_set_self_weight_as_subnet_owner(),
           test_single_staker()]
    for interleave, vals in [(0, list(range(64))), (1, list(range(0, 512, 8)))]:
        for server_self in (False, True):
            name = f"test_512_graph[interleave={interleave},server_self={'true' if server_self else 'false'}]"
            out.append(test_512(name, vals, server_self))
    out += epoch_logs_cases()
    for s in out:
        fname = s["name"].replace("[", "_").replace("]", "").replace(",", "_").replace("=", "").replace("::", "_")
        with open(os.path.join(ROOT, "scenarios", fname + ".json"), "w") as f:
            json.dump(s, f, indent=1)
            f.write("\n")
    print(f"wrote {len(out)} scenario files")


if __name__ == "__main__":
    main()
