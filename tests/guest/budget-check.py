# A budget holds for predicted loads: at each load pmld made, the module bytes of its own
# loads still loaded (non-base, from a run report's load/unload records) are within the
# budget. Misses (the shim's loads) may pass a soft budget and are not counted here: a miss
# that lands while a granted prefetch is in flight can lift the total above the budget
# without any prediction passing it. Usage: budget-check.py SUMMARY.json BUDGET_BYTES
import json, sys

r = json.load(open(sys.argv[1]))
budget = int(sys.argv[2])
ev = sorted(r["events"], key=lambda e: e["t_ns"])
s = r["summary"]
base = {e["module"] for e in ev if e.get("event") == "base"}
mine, every = {}, {}
worst = worst_all = 0
for e in ev:
    if e.get("duplicate"):
        continue
    m = e.get("module")
    if e.get("event") == "load" and m not in base:
        every[m] = e.get("bytes", 0)
        if e.get("source") == "pmld":
            mine[m] = e.get("bytes", 0)
            worst = max(worst, sum(mine.values()))
            worst_all = max(worst_all, sum(every.values()))
    elif e.get("event") == "unload":
        mine.pop(m, None)
        every.pop(m, None)
ref = sum(1 for e in ev if e.get("event") == "resource" and e.get("verdict") == "refuse")
idle = sum(1 for e in ev if e.get("event") == "unload" and e.get("cause") == "policy" and e.get("reason", "").startswith("lstm: idle"))
print(f"    measured: {s['stalls']} stalls {s['stall_ms']:.1f} ms, {s['predicted_loads']} prefetches ({s['wasted']} wasted), "
      f"{ref} refused, {idle} idle unloads; pmld's own modules at most {worst/1024:.0f} KiB of {budget/1024:.0f} KiB "
      f"(all modules at a prefetch {worst_all/1024:.0f} KiB); peak {s['peak_bytes']/1024:.0f} KiB")
sys.exit(0 if 0 < worst <= budget else 1)
