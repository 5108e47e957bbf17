#!/usr/bin/python3
"""docs/deployment.md shows packaging/nginx/hostpulse.conf (the file the nginx
test runs) verbatim in a fenced block; this fails when they drift apart.

usage: doc_sync_test.py SOURCE_DIR
"""
import re
import sys

source = sys.argv[1]
config = open(source + "/packaging/nginx/hostpulse.conf").read()
doc = open(source + "/docs/deployment.md").read()
blocks = re.findall(r"```nginx\n(.*?)```", doc, re.S)
if config in blocks:
    print("PASS docs/deployment.md shows packaging/nginx/hostpulse.conf verbatim")
    sys.exit(0)
print("FAIL docs/deployment.md has no ```nginx block equal to packaging/nginx/hostpulse.conf "
      "(%d nginx blocks found); copy the file into the doc" % len(blocks))
sys.exit(1)
