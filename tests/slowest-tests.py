#!/usr/bin/env python3
"""Prints the slowest tests and each test assembly's wall time from the trx files that
`TSM_TEST_RESULTS=DIR ./test.sh` keeps in DIR.

Usage: tests/slowest-tests.py DIR [N]   (N slowest tests, 30 by default)
"""
import glob
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def seconds(duration):
    # trx durations read "hh:mm:ss.fffffff".
    h, m, s = duration.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def instant(text):
    # trx times carry 7 fractional digits, which fromisoformat rejects before Python 3.11.
    head, _, rest = text.partition(".")
    frac = "".join(c for c in rest if c.isdigit())[:6]
    zone = rest[len("".join(c for c in rest if c.isdigit())):]
    return datetime.fromisoformat(f"{head}.{frac or '0'}{zone}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    tests, assemblies = [], []
    for path in sorted(glob.glob(sys.argv[1] + "/*.trx")):
        root = ET.parse(path).getroot()
        names = {d.get("id"): d.find("t:TestMethod", NS).get("codeBase", "") for d in root.iterfind(".//t:UnitTest", NS)}
        assembly = ""
        for r in root.iterfind(".//t:UnitTestResult", NS):
            assembly = names.get(r.get("testId"), "").rsplit("/", 1)[-1].removesuffix(".dll")
            tests.append((seconds(r.get("duration", "0:0:0")), r.get("outcome"), assembly, r.get("testName")))
        times = root.find("t:Times", NS)
        if times is not None:
            wall = (instant(times.get("finish")) - instant(times.get("start"))).total_seconds()
            count = sum(1 for _ in root.iterfind(".//t:UnitTestResult", NS))
            summed = sum(t[0] for t in tests if t[2] == assembly)
            assemblies.append((wall, assembly, count, summed, instant(times.get("start")), instant(times.get("finish"))))
    print(f"{'s':>7}  outcome  test")
    for s, outcome, assembly, name in sorted(tests, reverse=True)[:top]:
        print(f"{s:7.2f}  {outcome:<7}  {assembly}: {name}")
    print()
    print(f"{'wall s':>7} {'sum s':>7} {'tests':>5}  assembly")
    for wall, assembly, count, summed, _, _ in sorted(assemblies, reverse=True):
        print(f"{wall:7.1f} {summed:7.1f} {count:5}  {assembly}")
    if assemblies:
        span = (max(a[5] for a in assemblies) - min(a[4] for a in assemblies)).total_seconds()
        print(f"{span:7.1f} {sum(t[0] for t in tests):7.1f} {len(tests):5}  (first start to last finish)")


if __name__ == "__main__":
    main()
