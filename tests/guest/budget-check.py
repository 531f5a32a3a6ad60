# The module bytes (non-base, from a run report's load/unload records) at each load pmld
# made must stay within the budget. Usage: budget-check.py SUMMARY.json BUDGET_BYTES
import json,sys
r=json.load(open(sys.argv[1])); budget=int(sys.argv[2]); ev=sorted(r["events"], key=lambda e:e["t_ns"])
s=r["summary"]
base={e["module"] for e in ev if e.get("event")=="base"}
cur={}; worst=0
for e in ev:
    if e.get("duplicate"): continue
    if e.get("event")=="load" and e.get("module") not in base:
        cur[e["module"]]=e.get("bytes",0)
        if e.get("source")=="pmld": worst=max(worst,sum(cur.values()))
    elif e.get("event")=="unload":
        cur.pop(e.get("module"),None)
ref=sum(1 for e in ev if "resource: refuse" in e.get("reason",""))
idle=sum(1 for e in ev if e.get("event")=="unload" and e.get("reason","").startswith("lstm: idle"))
print(f"    measured: {s['stalls']} stalls {s['stall_ms']:.1f} ms, {s['predicted_loads']} prefetches ({s['wasted']} wasted), {ref} refused, "
      f"{idle} idle unloads; module bytes at a prefetch at most {worst/1024:.0f} KiB of {budget/1024:.0f} KiB; peak {s['peak_bytes']/1024:.0f} KiB")
sys.exit(0 if 0 < worst <= budget else 1)
