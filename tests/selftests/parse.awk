# SPDX-License-Identifier: GPL-2.0
# Parse the console log of tests/selftests/guest.sh (one or more boots of one
# kernel) into one tab-separated line per script:
#   script pass fail skip gated gpass gfail gabsent secs rc note
# pass/fail/skip come from the script's TAP block ("ok N", "not ok N",
# "ok N ... # SKIP"; "# IGNORE" flaky results are neither pass nor fail, see
# note).  gated counts the TAP cases a /proc/kallsyms feature probe gates as
# a whole, per the "cases" column of kallsyms-probes.tsv (awk -v probes=FILE):
# gpass/gfail those that ran and passed/failed, gabsent those skipped while
# the probe answered "feature absent" in that script (the rest of gated:
# skipped for another reason, or flaky; see note).  A probe's answer is read
# from the "##ST-KSYM hit|miss <pattern>" lines with the row's sense (has:
# hit = present; doesnt_have: miss = present); probes not in the table count
# as "has".  Without a TAP block (timeout, crash, early exit) the counts
# fall back to the script's "[ OK ]" / "[FAIL]" / "[SKIP]" lines, gated to
# the [SKIP]s that directly follow a probe that answered "absent", and the
# note says so.

function add_note(s, m) { note[s] = (note[s] == "" ? m : note[s] "; " m) }

BEGIN {
  FS = " "
  if (probes != "") {
    while ((getline line < probes) > 0) {
      if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
      nf = split(line, c, "\t")
      if (c[1] == "probe") continue
      nr++; PR[nr] = c[1]; SE[nr] = c[2]; SC[nr] = "," c[3] ","; CA[nr] = c[4]
      row[c[1]] = nr
    }
    close(probes)
  }
}

{ sub(/\r$/, "") }

/^##ST-KERNEL / { next }
/^##ST-BEGIN / {
  cur = $2; order[++n] = cur; pending = ""
  P[cur] = F[cur] = S[cur] = K[cur] = FL[cur] = 0
  G[cur] = GP[cur] = GF[cur] = GA[cur] = 0
  MO[cur] = MF[cur] = MS[cur] = DM[cur] = 0
  tap[cur] = 0; firstfail[cur] = ""; rc[cur] = "died"; secs[cur] = "?"; firstskip[cur] = ""
  next
}
cur == "" { next }
/^##ST-KSYM / {
  pat = $0; sub(/^##ST-KSYM [a-z]+ +/, "", pat)
  r = (pat in row) ? row[pat] : 0
  present = (($2 == "hit") == (r == 0 || SE[r] != "doesnt_have"))
  if (!((cur, pat) in seen)) { seen[cur, pat] = 1; mp[cur, ++nm[cur]] = pat }
  a = present ? "present" : "absent"
  if (((cur, pat) in ans) && ans[cur, pat] != a) a = "present/absent"
  ans[cur, pat] = a
  if (!present && r) absent_row[cur, r] = 1
  pending = present ? "" : pat
  next
}
/^##ST-PROBE / { next }
/^##ST-DMESG / { DM[cur]++; if (dmfirst[cur] == "") dmfirst[cur] = substr($0, 12); next }
/^##ST-END / {
  for (i = 3; i <= NF; i++) {
    split($i, kv, "=")
    if (kv[1] == "rc") rc[cur] = kv[2]
    if (kv[1] == "secs") secs[cur] = kv[2]
  }
  ended[cur] = 1; cur = ""; next
}
/^TAP version 13/ {
  tap[cur] = 1; P[cur] = F[cur] = S[cur] = FL[cur] = 0
  G[cur] = GP[cur] = GF[cur] = GA[cur] = 0
  next
}
tap[cur] && /^(not )?ok [0-9]+ - / {
  # The case's name: "ok 5 - mptcp_sockopt: sockopt # SKIP time=441ms" -> "sockopt".
  name = $0; sub(/^(not )?ok [0-9]+ - [^:]*: /, "", name); sub(/ # .*$/, "", name)
  g = 0
  for (r = 1; r <= nr; r++)
    if (CA[r] != "-" && index(SC[r], "," cur ",") && name ~ CA[r]) { g = r; break }
  if ($0 ~ /^not ok/) {
    F[cur]++
    if (F[cur] == 1) firstfail[cur] = name
    if (g) { G[cur]++; GF[cur]++ }
  } else if ($0 ~ /# SKIP/) {
    S[cur]++
    if (g) { G[cur]++; if ((cur, g) in absent_row) GA[cur]++ }
  } else if ($0 ~ /# IGNORE/) {
    FL[cur]++
    if (g) G[cur]++
  } else {
    P[cur]++
    if (g) { G[cur]++; GP[cur]++ }
  }
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
        G[s] = GA[s] = (K[s] ? 1 : 0)
      } else {
        P[s] = MO[s]; F[s] = MF[s]; S[s] = MS[s]; G[s] = GA[s] = K[s]
        add_note(s, "no TAP block: counts from [ OK ]/[FAIL]/[SKIP] lines")
      }
    }
    if (tap[s] && F[s]) add_note(s, "first failure: " firstfail[s])
    if (FL[s]) add_note(s, FL[s] " flaky result(s) ignored by the script")
    o = G[s] - GP[s] - GF[s] - GA[s]
    if (o > 0) add_note(s, o " probe-gated case(s) skipped for another reason or flaky")
    m = ""
    for (j = 1; j <= nm[s]; j++) {
      pat = mp[s, j]
      m = m (j > 1 ? ", " : "") "`" pat "` " ans[s, pat]
      if ((s, pat) in ksk) m = m " (-> skip)"
      if (!(pat in row)) m = m " (not in kallsyms-probes.tsv)"
    }
    if (m != "") add_note(s, "kallsyms probes: " m)
    if (DM[s]) add_note(s, DM[s] " kernel warning line(s), first: " dmfirst[s])
    printf "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", s, P[s], F[s], S[s], G[s], GP[s], GF[s], GA[s], secs[s], rc[s], note[s]
  }
}
