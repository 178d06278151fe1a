# SPDX-License-Identifier: GPL-2.0
# Parse the console log of tests/selftests/guest.sh (one or more boots of one
# kernel) into one tab-separated line per script:
#   script pass fail skip ksym secs rc note
# pass/fail/skip come from the script's TAP block ("ok N", "not ok N",
# "ok N ... # SKIP"; "# IGNORE" flaky results are neither pass nor fail, see
# note); ksym counts the [SKIP]s that directly follow a /proc/kallsyms probe
# that missed (a mainline symbol name our kernel/module does not have).
# Without a TAP block (timeout, crash, early exit) the counts fall back to the
# script's "[ OK ]" / "[FAIL]" / "[SKIP]" lines and the note says so.

function add_note(s, m) { note[s] = (note[s] == "" ? m : note[s] "; " m) }

{ sub(/\r$/, "") }

/^##ST-KERNEL / { next }
/^##ST-BEGIN / {
  cur = $2; order[++n] = cur; pending = ""
  P[cur] = F[cur] = S[cur] = K[cur] = FL[cur] = 0
  MO[cur] = MF[cur] = MS[cur] = DM[cur] = 0
  tap[cur] = 0; firstfail[cur] = ""; rc[cur] = "died"; secs[cur] = "?"; firstskip[cur] = ""
  next
}
cur == "" { next }
/^##ST-KSYM miss / {
  pat = substr($0, 16); sub(/^ +/, "", pat); pending = pat
  if (!((cur, pat) in seen)) { seen[cur, pat] = 1; mp[cur, ++nm[cur]] = pat }
  next
}
/^##ST-KSYM / { next }
/^##ST-DMESG / { DM[cur]++; if (dmfirst[cur] == "") dmfirst[cur] = substr($0, 12); next }
/^##ST-END / {
  for (i = 3; i <= NF; i++) {
    split($i, kv, "=")
    if (kv[1] == "rc") rc[cur] = kv[2]
    if (kv[1] == "secs") secs[cur] = kv[2]
  }
  ended[cur] = 1; cur = ""; next
}
/^TAP version 13/ { tap[cur] = 1; P[cur] = F[cur] = S[cur] = FL[cur] = 0; next }
tap[cur] && /^ok [0-9]+ - / {
  if ($0 ~ /# SKIP/) S[cur]++; else if ($0 ~ /# IGNORE/) FL[cur]++; else P[cur]++
  next
}
tap[cur] && /^not ok [0-9]+ - / {
  F[cur]++
  if (F[cur] == 1) { t = $0; sub(/^not ok [0-9]+ - [^:]*: /, "", t); sub(/ # .*$/, "", t); firstfail[cur] = t }
  next
}
/\[SKIP\]/ {
  MS[cur]++
  if (firstskip[cur] == "") { firstskip[cur] = $0; sub(/^.*\[SKIP\] */, "", firstskip[cur]) }
  if (pending != "") { K[cur]++; ksk[cur, pending] = 1; pending = "" }
}
/\[ OK \]/ { MO[cur]++; pending = "" }
/\[(FAIL|IGNO)\]/ { MF[cur]++; pending = "" }

END {
  for (i = 1; i <= n; i++) {
    s = order[i]
    if (!ended[s]) add_note(s, "VM died or timed out during this script")
    else if (rc[s] == 124 || rc[s] == 137) add_note(s, "killed by the per-script timeout")
    else if (rc[s] == 126 || rc[s] == 127) add_note(s, "exit " rc[s] ": script not executable or not found")
    if (!tap[s]) {
      if (rc[s] == 4 && MO[s] + MF[s] == 0) {
        S[s] = 1; add_note(s, "whole script skipped" (firstskip[s] != "" ? ": " firstskip[s] : ""))
        if (K[s]) K[s] = 1
      } else {
        P[s] = MO[s]; F[s] = MF[s]; S[s] = MS[s]
        add_note(s, "no TAP block: counts from [ OK ]/[FAIL]/[SKIP] lines")
      }
    }
    if (tap[s] && F[s]) add_note(s, "first failure: " firstfail[s])
    if (FL[s]) add_note(s, FL[s] " flaky result(s) ignored by the script")
    m = ""
    for (j = 1; j <= nm[s]; j++)
      m = m (j > 1 ? ", " : "") "`" mp[s, j] "`" (((s, mp[s, j]) in ksk) ? " (-> skip)" : " (no skip)")
    if (m != "") add_note(s, "kallsyms probes missed: " m)
    if (DM[s]) add_note(s, DM[s] " kernel warning line(s), first: " dmfirst[s])
    printf "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", s, P[s], F[s], S[s], K[s], secs[s], rc[s], note[s]
  }
}
