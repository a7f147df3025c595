"""The drift report as JUnit XML, for CI systems that show test results.

One ``<testsuite>`` per environment and cluster; one ``<testcase>`` per release scanned there
(named after the release, class ``env.cluster``). A release with findings fails, with one
``<failure type="KIND">`` per finding (the diff in its text); a cluster that could not be read
is an ``<error>``. Releases without findings pass, so the CI shows the whole fleet.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building XML only, never parsing

from helmkit.plan.drift import DriftReport, Finding


def render_junit(report: DriftReport) -> str:
    root = ET.Element("testsuites", name="helmkit drift", tests="0", failures="0", errors="0")
    total = failures = errors = 0
    for scan in report.clusters:
        mine = [f for f in report.findings if f.env == scan.env and f.cluster == scan.cluster]
        suite = ET.SubElement(root, "testsuite", name=f"{scan.env}/{scan.cluster}")
        cases = _cases(mine, scan.release_names)
        tests = fails = errs = 0
        for name, findings in cases.items():
            case = ET.SubElement(suite, "testcase", name=name or "(cluster)", classname=f"{scan.env}.{scan.cluster}")
            tests += 1
            for f in findings:
                if f.kind == "unreachable":
                    node = ET.SubElement(case, "error", type=f.kind, message=f.summary)
                    errs += 1
                else:
                    node = ET.SubElement(case, "failure", type=f.kind, message=f.summary)
                node.text = _body(f)
            if any(f.kind != "unreachable" for f in findings):
                fails += 1
        suite.set("tests", str(tests))
        suite.set("failures", str(fails))
        suite.set("errors", str(errs))
        total, failures, errors = total + tests, failures + fails, errors + errs
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _cases(findings: list[Finding], names: tuple[str, ...]) -> dict[str, list[Finding]]:
    cases: dict[str, list[Finding]] = {name: [] for name in names}
    for f in findings:
        cases.setdefault(f.release, []).append(f)
    return dict(sorted(cases.items()))


def _body(f: Finding) -> str:
    lines = [f"[{f.id}] {f.summary}", *f.details]
    if f.diff:
        lines += ["", f.diff.rstrip("\n")]
    return "\n".join(lines)
