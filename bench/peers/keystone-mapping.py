# Times Keystone's own mapping engine (RuleProcessor.process) per assertion: the peer of Archway's policy
# evaluation. Usage: /usr/bin/python3 keystone-mapping.py RULES.json ASSERTIONS.json ITERATIONS -> JSON on stdout.
import json
import sys
import time
import logging

logging.disable(logging.WARNING)  # "Ignoring user name" and friends would dominate the timing otherwise
from keystone.federation import utils  # noqa: E402

rules = json.load(open(sys.argv[1]))
assertions = json.load(open(sys.argv[2]))
iterations = int(sys.argv[3])
processor = utils.RuleProcessor("bench", rules["rules"])
for a in assertions:  # warm up
    processor.process(dict(a))
start = time.perf_counter()
count = 0
for _ in range(iterations):
    for a in assertions:
        processor.process(dict(a))
        count += 1
elapsed = time.perf_counter() - start
print(json.dumps({"evaluations": count, "seconds": elapsed}))
