#!/usr/bin/env python3
"""check_iam_resources.py DIR...: fail if an IAM policy in the Terraform code
names a wildcard resource.

Looks at every .tf file under the given directories for
  - `resources = [...]` in aws_iam_policy_document statements,
  - `Resource = ...` / `"Resource": ...` in jsonencode() or heredoc JSON,
  - `not_resources` / `NotResource` (grants everything but a list: refused),
and flags an element that is "*" or a literal ARN whose region, account or
resource part is a bare "*" (e.g. "arn:aws:kinesis:*:*:stream/*" is refused,
"${aws_s3_bucket.this.arn}/events/*" is a prefix of one named bucket and is
fine). Prints one line per finding and the number of resource lists checked;
exits 1 on a finding, 2 if it found no policy resources at all.
"""
import os
import re
import sys

LIST_RE = re.compile(r'(?<![\w."])("?)(resources|Resource|not_resources|NotResource)\1\s*[=:]\s*')


def strip_comments(text):
    out = []
    for line in text.splitlines():
        # drop # and // comments outside strings (good enough for HCL here)
        in_str = False
        res = []
        i = 0
        while i < len(line):
            c = line[i]
            if c == '"' and (i == 0 or line[i - 1] != "\\"):
                in_str = not in_str
            if not in_str and (c == "#" or line.startswith("//", i)):
                break
            res.append(c)
            i += 1
        out.append("".join(res))
    return "\n".join(out)


def value_at(text, pos):
    """Return the value starting at pos: a [...] list (balanced) or one token."""
    if text[pos] == "[":
        depth = 0
        for i in range(pos, len(text)):
            if text[i] == "[":
                depth += 1
            elif text[i] == "]":
                depth -= 1
                if depth == 0:
                    return text[pos:i + 1]
        return text[pos:]
    m = re.match(r'"(?:[^"\\]|\\.)*"|[^\s,}]+', text[pos:])
    return m.group(0) if m else ""


def strings_in(value):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', value)


def is_wildcard(s):
    if s.strip() == "*":
        return True
    if "${" in s:
        return False  # built from a named resource or input
    if s.startswith("arn:"):
        parts = s.split(":", 5)
        if len(parts) < 6:
            return True
        region, account, resource = parts[3], parts[4], parts[5]
        if region == "*" or account == "*" or resource in ("*", "/*") or resource.startswith("*"):
            return True
    return False


def main(dirs):
    findings = []
    checked = 0
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs[:] = [s for s in subdirs if s != ".terraform"]
            for f in sorted(files):
                if not f.endswith(".tf"):
                    continue
                path = os.path.join(root, f)
                with open(path, encoding="utf-8") as fh:
                    text = strip_comments(fh.read())
                for m in LIST_RE.finditer(text):
                    key = m.group(2)
                    value = value_at(text, m.end())
                    line = text.count("\n", 0, m.start()) + 1
                    checked += 1
                    if key in ("not_resources", "NotResource"):
                        findings.append(f"{path}:{line}: {key} is not allowed (it grants every other resource)")
                        continue
                    elems = strings_in(value)
                    for s in elems:
                        if is_wildcard(s):
                            findings.append(f"{path}:{line}: wildcard resource \"{s}\" in {key}")
    for f in findings:
        print(f)
    print(f"{checked} resource lists checked, {len(findings)} wildcard findings")
    if findings:
        return 1
    return 0 if checked else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["terraform"]))
