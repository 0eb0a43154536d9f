"""/backtest, /optimize and /compare (trader), with the Cancel and trades-CSV buttons.

The handler parses the request (bad input gets the usage with examples and starts nothing),
reserves the user's one job slot, posts a progress message with a Cancel button and returns:
the job runs as a task beside polling, its CPU part in the process pool, and edits the progress
message as it goes (at most once a second). A backtest ends with an album of its charts whose
caption carries the key metrics, the real window and the data label, and the progress message
turns into "done" with a button for the trades CSV. /optimize sends the heatmap and a table of
the best parameter sets with the walk-forward split; /compare the equity curves and a metrics
table side by side. Each job's end is audited with its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import BrokenExecutor

from aiogram import Bot, F, Router, flags
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InputMediaPhoto, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot import backtest_render as text
from bot import backtest_reports as reports
from bot import replies
from bot.access import Actor
from bot.backtest_jobs import BacktestJobs, Job, ProgressMessage
from bot.backtest_render import BacktestCb, BtAction
from bot.html_split import CAPTION_LIMIT, split_html, utf16_len
from bot.i18n import _
from bot.middlewares import Auditor
from engine.backtest.jobs import JobCancelled, Progress
from engine.backtest.optimize import OptimizeRequest
from engine.backtest.optimize_run import run_optimize_async
from engine.backtest.request import BacktestRequest, CompareRequest
from engine.backtest.service import run_backtest_async, run_compare_async
from engine.errors import BadArguments, EngineError
from engine.models import Role, SymbolSpec

log = logging.getLogger("chattrader.bot")
router = Router(name=__name__)

Work = Callable[[SymbolSpec, Job, ProgressMessage], Awaitable[str]]
CSV_DATES = "%Y-%m-%dT%H:%M:%SZ"  # as `chattrader backtest` writes trades.csv
STOP_EDIT_S = 2.0  # how long a stopping bot tries to mark a running job cancelled


def _caption(caption: str) -> str:
    return split_html(caption, CAPTION_LIMIT)[0] if utf16_len(caption) > CAPTION_LIMIT else caption


@router.message(Command("backtest"))
@flags.role(Role.TRADER)
async def cmd_backtest(
    message: Message,
    command: CommandObject,
    actor: Actor,
    backtests: BacktestJobs,
    auditor: Auditor,
) -> str:
    """/backtest SYMBOL PERIOD [TF] [strategy=NAME] [param=value ...]"""
    try:
        request = BacktestRequest.parse(backtests.strategy_token(command.args))
    except BadArguments as exc:
        await message.answer(text.usage("backtest", exc))
        return "usage"
    tf = f" {request.timeframe.value}" if request.timeframe else ""
    what = f"{request.symbol} {request.period.text}{tf} {request.strategy.name}"

    async def work(spec: SymbolSpec, job: Job, progress: ProgressMessage) -> str:
        report = await run_backtest_async(
            request,
            backtests.data,
            defaults=backtests.defaults(),
            spec=spec,
            pool=backtests.pool(),
            progress=progress.update,
            cancel=job.cancel,
        )
        result = report.result
        caption = _caption(reports.backtest_caption(report))
        media = [
            InputMediaPhoto(
                media=BufferedInputFile(png, filename=f"{name}.png"),
                caption=caption if index == 0 else None,
            )
            for index, (name, png) in enumerate(report.charts.items())
        ]
        await _bot(progress).send_media_group(job.chat_id, media)
        trades = len(result.trades)
        markup = None
        if trades:
            csv = result.trades.to_csv(index=False, date_format=CSV_DATES).encode("utf-8")
            backtests.keep_trades(job, reports.trades_filename(result), csv, trades)
            markup = text.csv_keyboard(job.id)
        await progress.finish(text.done(text.title("backtest", what), trades), markup)
        return f"done: {trades} trades"

    return await _start(message, actor, backtests, auditor, "backtest", what, request.symbol, work)


@router.message(Command("optimize"))
@flags.role(Role.TRADER)
async def cmd_optimize(
    message: Message,
    command: CommandObject,
    actor: Actor,
    backtests: BacktestJobs,
    auditor: Auditor,
) -> str:
    """/optimize SYMBOL PERIOD [TF] param=a..b:step ... [metric=NAME] [split=0.7]"""
    try:
        request = OptimizeRequest.parse(backtests.strategy_token(command.args))
    except BadArguments as exc:
        await message.answer(text.usage("optimize", exc))
        return "usage"
    defaults = backtests.defaults()
    timeframe = (request.timeframe or defaults.timeframe).value
    what = f"{request.symbol} {request.period.text} {timeframe} {request.strategy.name}"

    async def work(spec: SymbolSpec, job: Job, progress: ProgressMessage) -> str:
        report = await run_optimize_async(
            request,
            backtests.data,
            backtests.pool().executor,
            defaults=defaults,
            spec=spec,
            progress=progress.update,
            cancel=job.cancel,
            workers=backtests.workers,
        )
        bot = _bot(progress)
        caption = _caption(reports.optimize_caption(report, timeframe))
        heatmap = BufferedInputFile(report.heatmap, filename="heatmap.png")
        await bot.send_photo(job.chat_id, heatmap, caption=caption)
        for part in split_html(reports.optimize_table(report)):
            await bot.send_message(job.chat_id, part)
        await progress.finish(text.finished(text.title("optimize", what)))
        return f"done: {len(report.rows)} points"

    return await _start(message, actor, backtests, auditor, "optimize", what, request.symbol, work)


@router.message(Command("compare"))
@flags.role(Role.TRADER)
async def cmd_compare(
    message: Message,
    command: CommandObject,
    actor: Actor,
    backtests: BacktestJobs,
    auditor: Auditor,
) -> str:
    """/compare SYMBOL PERIOD [TF] NAME NAME [NAME ...]"""
    try:
        request = CompareRequest.parse(command.args)
    except BadArguments as exc:
        await message.answer(text.usage("compare", exc))
        return "usage"
    names = " ".join(s.name for s in request.strategies)
    tf = f" {request.timeframe.value}" if request.timeframe else ""
    what = f"{request.symbol} {request.period.text}{tf}: {names}"

    async def work(spec: SymbolSpec, job: Job, progress: ProgressMessage) -> str:
        report = await run_compare_async(
            request,
            backtests.data,
            defaults=backtests.defaults(),
            spec=spec,
            pool=backtests.pool(),
            progress=progress.update,
            cancel=job.cancel,
        )
        bot = _bot(progress)
        head, table = reports.compare_caption(report), reports.compare_table(report.results)
        chart = BufferedInputFile(report.chart, filename="compare.png")
        both = f"{head}\n{table}"
        if utf16_len(both) <= CAPTION_LIMIT:
            await bot.send_photo(job.chat_id, chart, caption=both)
        else:
            await bot.send_photo(job.chat_id, chart, caption=_caption(head))
            await bot.send_message(job.chat_id, table)
        await progress.finish(text.finished(text.title("compare", what)))
        return f"done: {len(report.results)} strategies"

    return await _start(message, actor, backtests, auditor, "compare", what, request.symbol, work)


def _bot(progress: ProgressMessage) -> Bot:
    bot = progress.message.bot
    assert bot is not None
    return bot


async def _start(
    message: Message,
    actor: Actor,
    backtests: BacktestJobs,
    auditor: Auditor,
    kind: str,
    what: str,
    symbol: str,
    work: Work,
) -> str:
    """Reserve the user's job slot, post the progress message, launch ``work``."""
    job = backtests.reserve(actor.user_id, message.chat.id, kind)
    if job is None:
        await message.answer(text.busy())
        return "busy"
    head = text.title(kind, what)
    try:
        spec = await backtests.spec(symbol)
        cancel = text.cancel_keyboard(job.id)
        sent = await message.answer(text.progress(head, Progress("start")), reply_markup=cancel)
    except BadArguments as exc:
        backtests.release(job)
        await message.answer(text.usage(kind, exc))
        return "usage"
    except BaseException:
        backtests.release(job)
        raise
    render = functools.partial(text.progress, head)
    progress = ProgressMessage(sent, render, cancel, every=backtests.edit_every)
    run = _run(job, head, progress, auditor, backtests, functools.partial(work, spec))
    backtests.launch(job, run)
    return f"started {job.id}"


async def _run(
    job: Job,
    head: str,
    progress: ProgressMessage,
    auditor: Auditor,
    backtests: BacktestJobs,
    work: Callable[[Job, ProgressMessage], Awaitable[str]],
) -> None:
    """Run ``work`` until it ends or ``job.cancel`` is set; show and audit how it ended."""
    try:
        try:
            outcome = await _until_cancelled(job, work(job, progress))
        except JobCancelled:
            await progress.finish(text.cancelled(head))
            outcome = "cancelled"
        except EngineError as exc:  # refused on the data: no such bars, too few, bad lots
            await progress.finish(text.failed(head, text.reason(exc)))
            outcome = f"failed: {exc.code}"
        await auditor.record(job.owner, job.chat_id, f"/{job.kind}", outcome, job.id)
    except asyncio.CancelledError:  # the bot is stopping: say so if Telegram still listens
        with contextlib.suppress(Exception):
            await asyncio.wait_for(progress.finish(text.cancelled(head)), STOP_EDIT_S)
        raise
    except Exception as exc:
        log.exception("%s job %s failed", job.kind, job.id)
        if isinstance(exc, BrokenExecutor):  # a worker process died: start afresh next time
            backtests.drop_pool()
        with contextlib.suppress(TelegramAPIError):
            await progress.finish(text.crashed(head))
        with contextlib.suppress(Exception):
            await auditor.record(job.owner, job.chat_id, f"/{job.kind}", "error", job.id)


async def _until_cancelled(job: Job, work: Awaitable[str]) -> str:
    """``work``'s outcome, or ``JobCancelled`` as soon as the job's cancel event is set (even
    while bars are still loading, before the engine's own cancellation point)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(job.cancel.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, JobCancelled):
            await task
        msg = "cancelled from the chat"
        raise JobCancelled(msg)
    finally:
        stop.cancel()
        if not task.done():
            task.cancel()


@router.callback_query(BacktestCb.filter(F.action == BtAction.CANCEL))
@flags.role(Role.TRADER)
async def on_cancel(
    query: CallbackQuery,
    callback_data: BacktestCb,
    actor: Actor,
    backtests: BacktestJobs,
    callback_answer: CallbackAnswer,
) -> str:
    job = backtests.job(callback_data.job)
    if job is None:
        callback_answer.text = _("That job has already ended.")
        return "ended"
    if job.owner != actor.user_id and not actor.may(Role.ADMIN):
        callback_answer.text = _("Only the person who started it, or an admin, can cancel it.")
        callback_answer.show_alert = True
        return "not theirs"
    job.cancel.set()
    callback_answer.text = _("Cancelling…")
    return f"cancel {job.id}"


@router.callback_query(BacktestCb.filter(F.action == BtAction.CSV))
@flags.role(Role.TRADER)
async def on_trades_csv(
    query: CallbackQuery,
    callback_data: BacktestCb,
    backtests: BacktestJobs,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> str:
    chat_id = replies.chat_of(query)
    kept = backtests.trades(callback_data.job, chat_id)
    if kept is None:
        callback_answer.text = text.csv_gone()
        callback_answer.show_alert = True
        return "gone"
    document = BufferedInputFile(kept.data, filename=kept.filename)
    caption = _("{n} trades, times in UTC.").format(n=kept.rows)
    await bot.send_document(chat_id, document, caption=caption)
    return f"sent {kept.rows} trades"


@router.shutdown()
async def stop_jobs(backtests: BacktestJobs | None = None) -> None:
    """Cancel running jobs and stop the worker processes with the bot."""
    if backtests is not None:
        await backtests.close()
