"""``graphkit render``, ``graphkit package`` and ``graphkit verify``: pages and evidence packages."""

from __future__ import annotations

from pathlib import Path

import click

from graphkit.commands._common import library_errors


def _load_for(doc, rings_json: Path, data_dir: Path | None):
    """Load DATA_DIR, defaulting to the rings file's input.data_dir (as given, or next to it)."""
    from graphkit.evidence import _resolve_dataset
    from graphkit.load import load

    if data_dir is not None:
        return load(data_dir)
    return _resolve_dataset(doc, None, rings_json)


@click.command("render")
@click.argument("rings_json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True,
              type=click.Path(path_type=Path),
              help="Output directory for index.html and rings/<ring_id>.html.")
@click.option("--unmasked", is_flag=True,
              help="Show 身份证号, names, phones and addresses in full (default: masked).")
@click.option("--max-nodes", type=click.IntRange(10, 20000), default=2000, show_default=True,
              help="Cut larger ring views to their core, with a note of what was left out.")
def render_cmd(rings_json: Path, data_dir: Path, out_dir: Path, unmasked: bool,
               max_nodes: int) -> None:
    """Write OUT_DIR/index.html and one interactive, offline page per ring.

    Pages inline vis-network and all styles and make no network request; personal data is
    masked unless --unmasked is given.

    \b
    Example:
      graphkit render out/demo/rings.json data_samples/demo -o out/demo-pages
      graphkit render out/demo/rings.json data_samples/demo -o /media/usb/pages --max-nodes 800
    """
    from rich.console import Console

    from graphkit.load import load
    from graphkit.render import render_all
    from graphkit.rings import read_rings

    err = Console(stderr=True, highlight=False)
    with library_errors():
        doc = read_rings(rings_json)
        with err.status(f"loading {data_dir} ...") as status:
            ds = load(data_dir)
            status.update("writing pages ...")
            paths = render_all(doc, ds, out_dir, mask=not unmasked, max_nodes=max_nodes,
                               progress=lambda done, n: status.update(
                                   f"writing pages: {done:,} of {n:,} ..."))
    click.echo(f"wrote {paths[0]} and {len(paths) - 1} ring page(s) under {out_dir / 'rings'}")


@click.command("package")
@click.argument("rings_json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ring_id")
@click.option("-o", "--out", "out_dir", required=True,
              type=click.Path(path_type=Path),
              help="Package directory to write (created; must hold no other files).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              help="Data directory [default: the rings file's input.data_dir].")
@click.option("--unmasked", is_flag=True,
              help="Write personal data in full; recorded in manifest.json (default: masked).")
@click.option("--zip", "zip_", is_flag=True, help="Also write DIR.zip next to the directory.")
@click.option("--sign", "sign_key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ed25519 private key (from graphkit keygen): write manifest.sig, the "
                   "signature of manifest.json.")
@click.option("--operator", metavar="NAME",
              help="Who makes the package; recorded in manifest.json and on the report.")
def package_cmd(rings_json: Path, ring_id: str, out_dir: Path, data_dir: Path | None,
                unmasked: bool, zip_: bool, sign_key: Path | None, operator: str | None) -> None:
    """Write an evidence package for one ring: 报告.html, graph.html, CSVs, Cypher, manifest.

    Personal data is masked by default in every file (身份证号 510104************, birth year
    only, names 张*, phones 138****1234). manifest.json records the SHA-256 of every file, the
    input fingerprint, the settings, the graphkit version, the time and the operator; with
    --sign, manifest.sig signs it. Check a package with graphkit verify.

    \b
    Example:
      graphkit package out/demo/rings.json R0001 -o cases/R0001
      graphkit package out/demo/rings.json R0002 -o cases/R0002 --data data_samples/demo --zip
      graphkit keygen ~/.graphkit/keys
      graphkit package out/demo/rings.json R0001 -o cases/R0001 \\
          --sign ~/.graphkit/keys/graphkit_ed25519.pem --operator "王警官"
    """
    from graphkit.evidence import write_package
    from graphkit.rings import read_rings

    with library_errors():
        doc = read_rings(rings_json)
        doc.ring(ring_id)  # unknown ring: fail before loading data
        ds = _load_for(doc, rings_json, data_dir)
        out = write_package(doc, ring_id, out_dir, ds, unmasked=unmasked, zip_=zip_,
                            rings_path=rings_json, sign=sign_key, operator=operator)
    click.echo(f"wrote {out}" + (f" and {out.with_name(out.name + '.zip')}" if zip_ else "")
               + ("  (UNMASKED: holds personal data)" if unmasked else "  (personal data masked)")
               + ("  signed" if sign_key else "  unsigned"))


#: ``graphkit verify`` exit code of a package whose files all match a manifest that nothing
#: authenticates (unsigned, or signed but checked without --key)
EXIT_UNAUTHENTICATED = 3


@click.command("verify")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option("--key", "key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signer's Ed25519 public key (PEM): the package must be signed with it.")
def verify_cmd(package: Path, key: Path | None) -> None:
    """Check every file of an evidence package (directory or .zip) and its signature.

    Prints the SHA-256 of manifest.json and the signer's key fingerprint (SHA-256 of the raw
    public key), to be confirmed with the signer out of band. Exit codes:

    \b
      0  ok: every file matches manifest.json and manifest.sig verifies under --key
      1  failed: a changed, missing or extra file, a bad or missing signature, a wrong key
      3  unsigned, or signed but not checked (no --key): the files match a manifest that
         anyone could have rewritten with them

    \b
    Example:
      graphkit verify cases/R0001 --key ~/.graphkit/keys/graphkit_ed25519.pub.pem
      graphkit verify cases/R0001.zip --key colleague.pub.pem
      graphkit verify cases/R0001
    """
    from graphkit.evidence import check_package

    with library_errors():
        result = check_package(package, key)
    if result.manifest_sha256:
        click.echo(f"manifest.json SHA-256: {result.manifest_sha256}")
    if result.signer_fingerprint:
        click.echo(f"key fingerprint (SHA-256): {result.signer_fingerprint}"
                   + ("  (the --key given)" if key else
                      "  (the signer the manifest names; not checked)"))
    if result.operator:
        click.echo(f"operator: {result.operator}")
    if result.status == "failed":
        for p in result.problems:
            click.echo(p, err=True)
        raise click.ClickException(f"{package}: FAILED, {len(result.problems)} problem(s): "
                                   + "; ".join(result.problems[:5]))
    if result.status == "ok":
        click.echo(f"{package}: ok, every file matches manifest.json and the signature verifies")
        return
    what = ("unsigned: the files match manifest.json, but nothing signs it"
            if result.status == "unsigned" else
            "signed, signature not checked: pass --key with the signer's public key")
    click.echo(f"{package}: {what}")
    raise SystemExit(EXIT_UNAUTHENTICATED)


@click.command("keygen")
@click.argument("directory", type=click.Path(path_type=Path))
def keygen_cmd(directory: Path) -> None:
    """Write a new Ed25519 key pair for signing evidence packages into DIRECTORY.

    Writes graphkit_ed25519.pem (the private key, PEM, readable by you only: mode 0600) and
    graphkit_ed25519.pub.pem (the public key, to hand to whoever verifies your packages).
    Never overwrites a key. Prints the key's fingerprint (SHA-256 of the raw public key).

    \b
    Example:
      graphkit keygen ~/.graphkit/keys
      graphkit package out/demo/rings.json R0001 -o cases/R0001 \\
          --sign ~/.graphkit/keys/graphkit_ed25519.pem
    """
    from graphkit._signing import generate_key_pair, key_fingerprint, load_public_key

    with library_errors():
        private, public = generate_key_pair(directory)
        fingerprint = key_fingerprint(load_public_key(public))
    click.echo(f"wrote {private} (private: keep it to yourself) and {public}")
    click.echo(f"key fingerprint (SHA-256): {fingerprint}")
