"""`helmkit template`: render release instances and print them or write them to a folder.

Each instance's manifest is preceded by ``# Source: <env>/<cluster>/<release>``. The ``data``
and ``stringData`` values of every Kubernetes Secret are replaced by stable digest masks
(the run's keyed :meth:`~helmkit.adapters.masking.Masker.digest`: a changed value shows a changed mask), and the
run's masker catches any other occurrence of a resolved secret.

Masked output stays a valid manifest (it can be applied, linted or committed as rendered
manifests): a ``data`` value is the base64 of its mask text (``<secret hmac:...>``), a
``stringData`` value the mask text itself, and the Secret carries the comment :data:`MASKED_NOTE`.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from helmkit.actions.render import RenderResult, render_instances
from helmkit.adapters.cache import atomic_write
from helmkit.adapters.masking import Digest
from helmkit.adapters.outputstamps import OutputStamps
from helmkit.context import Context
from helmkit.errors import EXIT_ERROR, EXIT_OK, HelmkitError, InputError
from helmkit.model import names
from helmkit.model.instance import ReleaseInstance
from helmkit.plan.goyaml import HelmYamlLoader

_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.MULTILINE)
MASKED_NOTE = "# helmkit: Secret values masked (data: base64 of a mask text); not the real secret"
FILE_FORMAT = "template-file 1"  # a new value when the bytes written for a rendering change: files are written again
_SECRET_KIND = re.compile(r"^kind:[ \t]*[\"']?Secret[\"']?[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class TemplateOptions:
    env: str
    cluster: str | None = None
    selector: str | None = None
    output_dir: Path | None = None
    concurrency: int | None = None
    set_values: tuple[str, ...] = ()
    fmt: str = "yaml"  # yaml: the manifests; json: one kubectl-style List of every object


def template(ctx: Context, options: TemplateOptions) -> int:
    """Render the selected instances of an environment; return the exit code."""
    cache = ctx.cache_dir()
    instances = select_instances(ctx, options)
    if not instances:  # --allow-no-matching-release, or every selected release disabled
        ctx.console.info(f"{options.env}: no release selected")
        return EXIT_OK
    folder = options.output_dir  # files written for the same inputs and untouched since are kept as they are
    stamps = OutputStamps(cache, folder) if folder is not None else None
    settle = partial(_is_current, ctx, stamps, folder) if stamps is not None and folder is not None else None
    results = render_instances(ctx, instances, concurrency=options.concurrency, settle=settle,
                               whole_envs=not options.selector and not options.cluster)
    failed = [r for r in results if r.error is not None]
    if folder is not None and stamps is not None:
        _write_files(ctx, folder, results, stamps)
    elif options.fmt == "json":
        documents = [mask_secret_data(r.manifest, ctx.masker.digest) for r in results if r.manifest is not None]
        ctx.console.print(as_json_list(documents))
    else:
        for result in results:
            if result.manifest is not None:
                masked = mask_secret_data(result.manifest, ctx.masker.digest)
                ctx.console.print(source_header(result.instance) + "\n" + masked.rstrip())
    for result in failed:
        assert result.error is not None
        ctx.console.info(f"{result.instance.key}: " + result.error.render().removeprefix("error: "))
    cached = sum(1 for r in results if r.cached)
    unchanged = sum(1 for r in results if r.settled)
    ctx.console.debug(f"rendered {len(results) - len(failed)} of {len(results)} instances "
                      f"({cached} from the cache or shared with an identical instance, "
                      f"{unchanged} files already written with the same inputs)")
    return EXIT_ERROR if failed else EXIT_OK


def select_instances(ctx: Context, options: TemplateOptions) -> list[ReleaseInstance]:
    from helmkit.model.repository import load_repository
    from helmkit.model.resolve import resolve_instances
    from helmkit.model.selectors import parse_selector

    repo = load_repository(ctx.repo)
    selector = parse_selector(options.selector, allow_empty=ctx.allow_no_matching_release) if options.selector else None
    instances = resolve_instances(repo, options.env, cluster=options.cluster, selector=selector,
                                  set_values=list(options.set_values) or None)
    return [i for i in instances if i.enabled]


def as_json_list(manifests: list[str]) -> str:
    """Every object of ``manifests`` (Secret data already masked) as one ``v1/List``, as kubectl prints."""
    items: list[Any] = []
    for manifest in manifests:
        loaded = yaml.load_all(manifest, Loader=HelmYamlLoader)
        items += [doc for doc in loaded if isinstance(doc, dict)]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2, default=str)


def source_header(instance: ReleaseInstance) -> str:
    return f"# Source: {instance.key}"


def _output_path(folder: Path, instance: ReleaseInstance) -> Path:
    for part in (instance.env, instance.cluster.name, instance.name):
        if not names.is_dns_subdomain(part):
            raise InputError(f"{instance.key}: {part!r} cannot be used as a file name")
    return folder / instance.env / instance.cluster.name / f"{instance.name}.yaml"


def _stamp(ctx: Context, result: RenderResult) -> str | None:
    """What a written file's bytes depend on (keyed: see :mod:`helmkit.adapters.outputstamps`)."""
    if result.key is None:
        return None
    return ctx.masker.stamp(FILE_FORMAT, result.key, source_header(result.instance))


def _is_current(ctx: Context, stamps: OutputStamps, folder: Path, result: RenderResult) -> bool:
    """Whether the instance's file was written for the same inputs and not touched since: no rendering needed."""
    stamp = _stamp(ctx, result)
    try:
        return stamp is not None and stamps.current(_output_path(folder, result.instance), stamp)
    except InputError:
        return False  # refused when the files are written


def _write_files(ctx: Context, folder: Path, results: list[RenderResult], stamps: OutputStamps) -> None:
    # Instances with equal render inputs share one manifest (the same release on many clusters):
    # it is masked and encoded once, and kept only until its last file is written.
    uses = Counter(result.manifest for result in results if result.manifest is not None)
    bodies: dict[str, bytes] = {}
    for result in results:
        if result.manifest is None:
            continue
        instance = result.instance
        path = _output_path(folder, instance)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = bodies.get(result.manifest)
        if body is None:
            body = ctx.masker.mask(mask_secret_data(result.manifest, ctx.masker.digest).rstrip() + "\n").encode()
        uses[result.manifest] -= 1
        if uses[result.manifest] > 0:
            bodies[result.manifest] = body
        else:
            bodies.pop(result.manifest, None)
        atomic_write(path, ctx.masker.mask(source_header(instance) + "\n").encode() + body, mode=0o644)
        stamp = _stamp(ctx, result)
        if stamp is not None:
            stamps.wrote(path, stamp)
        ctx.console.debug(f"wrote {path}")
    stamps.save()


def mask_secret_data(manifest: str, digest: Digest) -> str:
    """Replace the values of ``data``/``stringData`` of every Secret with digest masks."""
    if not _has_secret_kind(manifest):
        return manifest  # no Secret: nothing to mask, and no need to split megabytes into documents
    parts = _DOC_SPLIT.split(manifest)
    return "---".join(_mask_document(part, digest) if _has_secret_kind(part) else part for part in parts)


def _has_secret_kind(text: str) -> bool:
    """Whether a line of ``text`` is ``kind: Secret`` (found with str.find: megabytes of CRDs scan fast)."""
    if "Secret" not in text:
        return False
    at = 0 if text.startswith("kind:") else text.find("\nkind:") + 1
    while at != 0 or text.startswith("kind:"):
        end = text.find("\n", at)
        if _SECRET_KIND.match(text, at, len(text) if end == -1 else end + 1):
            return True
        found = text.find("\nkind:", at)
        if found == -1:
            return False
        at = found + 1
    return False


def _mask_document(text: str, digest_mask: Digest) -> str:
    try:
        doc = yaml.load(text, Loader=HelmYamlLoader)  # noqa: S506 -- a safe loader
    except yaml.YAMLError:
        raise HelmkitError("helm rendered a Secret that is not valid YAML; it is not shown") from None
    if not isinstance(doc, dict) or doc.get("kind") != "Secret":
        return text
    data, string_data = doc.get("data"), doc.get("stringData")
    if isinstance(data, dict):  # still base64, so the manifest stays valid: of the mask text
        doc["data"] = {k: base64.b64encode(digest_mask(_as_text(v)).encode()).decode() for k, v in data.items()}
    if isinstance(string_data, dict):
        doc["stringData"] = {k: digest_mask(_as_text(v)) for k, v in string_data.items()}
    lines = text.splitlines()
    lead: list[str] = []
    for line in lines:
        if line.strip() and not line.startswith("#"):
            break
        lead.append(line)
    lead.append(MASKED_NOTE)
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=1_000_000)
    return "\n".join(lead) + "\n" + body


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)
