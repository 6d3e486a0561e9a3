# Times Keystone's own mapping engine (RuleProcessor.process) per assertion: the peer of Archway's policy
# evaluation, timed the way bench/policy.ts times Archway's side, in alternation with it: a warm-up, then one round
# of at least ROUND_S seconds per line read from stdin.
# Usage: /usr/bin/python3 keystone-mapping.py RULES.json ASSERTIONS.json WARM_S ROUND_S
# Prints "ready" after the warm-up, then {"evaluations": n, "seconds": s, "cpuSeconds": c} per round, one JSON line
# each (c: the process's CPU time over the round, which leaves out time spent waiting for a core).
import json
import sys
import time
import logging

logging.disable(logging.WARNING)  # "Ignoring user name" and friends would dominate the timing otherwise
from keystone.federation import utils  # noqa: E402

rules = json.load(open(sys.argv[1]))
assertions = json.load(open(sys.argv[2]))
warm_s, round_s = float(sys.argv[3]), float(sys.argv[4])
processor = utils.RuleProcessor("bench", rules["rules"])


def run_for(seconds):
    """Whole passes over the assertions until `seconds` have passed: (evaluations, elapsed, CPU seconds)."""
    start = time.perf_counter()
    cpu = time.process_time()
    count = 0
    while True:
        for a in assertions:
            processor.process(dict(a))
        count += len(assertions)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count, elapsed, time.process_time() - cpu


run_for(warm_s)
print("ready", flush=True)
for _ in sys.stdin:
    n, elapsed, cpu = run_for(round_s)
    print(json.dumps({"evaluations": n, "seconds": elapsed, "cpuSeconds": cpu}), flush=True)
