//! `keysweep rotate …`: locate, plan, apply, status, resume, rollback,
//! finalize.
//!
//! Exit codes: 0 done; 1 the operation did not happen but nothing is left
//! half-done (a stale or edited plan, a lock held elsewhere, a rotation that
//! aborted cleanly, a grace period not over, findings not located); 2 an
//! error (bad config, unreachable backend, a step that failed after promotion
//! and needs `resume`).

pub mod args;
mod locate;
mod render;

use anyhow::{anyhow, Context, Result};
use args::{Common, RotateCommand, RotateFormat};
use keysweep_backends::{ConfigError, FindingRef, PlanError, PlannedTarget, RotateConfig};
use keysweep_rotate::{
    resolve_state_dir, Engine, Error as RotateError, FieldPath, FingerprintKey, IssuerRef,
    PlanFile, RotationStatus, StoreRef, Target, STATE_DIR_ENV,
};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs a rotate subcommand; returns the exit code.
pub fn run(cmd: &RotateCommand) -> Result<i32> {
    run_commands(cmd).map_err(with_flag_hints)
}

/// The libraries' errors name options and cargo features, never this
/// program's flags; the flags that set them are added here.
fn with_flag_hints(e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
    let hint = if text.contains("allow_unversioned=true") {
        Some("pass --allow-unversioned to rotate a KV v1 store anyway".to_string())
    } else {
        ["aws", "vault", "postgres"]
            .into_iter()
            .find(|f| text.contains(&format!("`{f}` cargo feature")))
            .map(|f| {
                format!("rebuild with `cargo install keysweep --features {f}` (or --features rotate-all)")
            })
    };
    match hint {
        Some(h) => anyhow!("{text}\nhint: {h}"),
        None => e,
    }
}

fn run_commands(cmd: &RotateCommand) -> Result<i32> {
    keysweep_backends::refuse_body_logging(|k| std::env::var_os(k).is_some())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        match cmd {
            RotateCommand::Locate(a) => locate::run(a).await,
            RotateCommand::Plan(a) => plan(a).await,
            RotateCommand::Apply(a) => apply(a).await,
            RotateCommand::Status(a) => status(&a.common, a.rotation.as_deref()),
            RotateCommand::Resume(a) => {
                let ctx = Ctx::new(&a.common)?;
                let r = ctx.engine.resume(&a.rotation).await;
                ctx.report("resume", &a.rotation, r)
            }
            RotateCommand::Rollback(a) => {
                let ctx = Ctx::new(&a.common)?;
                let r = ctx.engine.rollback(&a.rotation).await;
                ctx.report("rollback", &a.rotation, r)
            }
            RotateCommand::Finalize(a) => {
                let ctx = Ctx::new(&a.common)?;
                let r = ctx.engine.finalize(&a.rotation, a.force).await;
                ctx.report("finalize", &a.rotation, r)
            }
        }
    })
}

/// What every engine-backed subcommand needs.
struct Ctx {
    engine: Engine,
    format: RotateFormat,
}

impl Ctx {
    fn new(c: &Common) -> Result<Ctx> {
        let cfg = load_config(c)?;
        Ok(Ctx {
            engine: engine(state_dir(c, &cfg)),
            format: c.format,
        })
    }

    /// Prints the outcome of resume/rollback/finalize.
    fn report(&self, op: &str, id: &str, r: Result<RotationStatus, RotateError>) -> Result<i32> {
        match r {
            Ok(st) => {
                match self.format {
                    RotateFormat::Json => print_json(&serde_json::json!({
                        "operation": op, "status": st,
                    }))?,
                    RotateFormat::Human => {
                        let plan = self.engine.plan_of(id).ok();
                        render::status_line(&mut std::io::stdout().lock(), &st, plan.as_ref())?
                    }
                }
                Ok(0)
            }
            Err(e) => self.failure(op, id, e),
        }
    }

    fn failure(&self, op: &str, id: &str, e: RotateError) -> Result<i32> {
        let code = exit_code(&e);
        let status = self.engine.status(id).ok();
        match self.format {
            RotateFormat::Json => print_json(&serde_json::json!({
                "operation": op,
                "rotation_id": id,
                "error": e.to_string(),
                "error_class": e.class(),
                "status": status,
            }))?,
            RotateFormat::Human => {
                if let Some(st) = &status {
                    let plan = self.engine.plan_of(id).ok();
                    render::status_line(&mut std::io::stdout().lock(), st, plan.as_ref())?;
                }
            }
        }
        eprintln!("error: {op} {id}: {e}");
        if let Some(hint) = hint(&e, id) {
            eprintln!("hint: {hint}");
        }
        Ok(code)
    }
}

fn exit_code(e: &RotateError) -> i32 {
    match e {
        RotateError::Aborted { .. }
        | RotateError::StalePlan { .. }
        | RotateError::PlanHashMismatch { .. }
        | RotateError::Locked(_)
        | RotateError::AlreadyStarted(_)
        | RotateError::GraceNotElapsed { .. }
        | RotateError::Refused(_) => 1,
        _ => 2,
    }
}

fn hint(e: &RotateError, id: &str) -> Option<String> {
    match e {
        RotateError::StalePlan { .. } => Some(
            "the target changed since the plan was made; run `keysweep rotate plan` again".into(),
        ),
        RotateError::GraceNotElapsed { .. } => Some(format!(
            "wait for the grace period, or `keysweep rotate finalize {id} --force`"
        )),
        RotateError::Step { .. } => Some(format!(
            "fix the cause, then `keysweep rotate resume {id}` (or `rollback {id}`)"
        )),
        RotateError::AlreadyStarted(_) => Some(format!("see `keysweep rotate status {id}`")),
        _ => None,
    }
}

/// The journal directory: flag, config, environment, default.
fn state_dir(c: &Common, cfg: &RotateConfig) -> PathBuf {
    resolve_state_dir(
        c.state_dir.as_deref(),
        cfg.state_dir.as_deref(),
        std::env::var_os(STATE_DIR_ENV).as_deref(),
    )
}

fn engine(dir: PathBuf) -> Engine {
    Engine::builder(dir, Arc::new(keysweep_backends::Backends))
        .key(FingerprintKey::from_env())
        .build()
}

/// `[aws]` defaults with `--endpoint-url`/`--region` on top.
fn aws_defaults(c: &Common, cfg: &RotateConfig) -> std::collections::BTreeMap<String, String> {
    cfg.aws_defaults(c.endpoint_url.as_deref(), c.region.as_deref())
}

/// The rotation config of `--config` (or the default file).
fn load_config(c: &Common) -> Result<RotateConfig> {
    Ok(RotateConfig::load(c.config.as_deref())?)
}

/// Reads a findings file (`keysweep scan --format json` or jsonl).
fn load_findings(path: &Path) -> Result<Vec<FindingRef>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read findings {}", path.display()))?;
    keysweep_backends::parse_findings(&text).with_context(|| path.display().to_string())
}

/// Parses `KEY=VALUE`.
fn key_value(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("expected KEY=VALUE, got {s:?}"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

fn print_json(v: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The target of `--store`/`--issuer` and the options that go with them.
fn command_line_target(
    a: &args::PlanArgs,
    store: &str,
    issuer: &str,
    cfg: &RotateConfig,
) -> Result<PlannedTarget> {
    let aws = aws_defaults(&a.common, cfg);
    let mut s: StoreRef = store.parse().context("--store")?;
    let mut i: IssuerRef = issuer.parse().context("--issuer")?;
    for kv in &a.store_opts {
        let (k, v) = key_value(kv)?;
        s.options.insert(k, v);
    }
    for kv in &a.issuer_opts {
        let (k, v) = key_value(kv)?;
        i.options.insert(k, v);
    }
    keysweep_backends::merge_defaults(&mut s.options, &s.kind, &aws, &cfg.vault);
    keysweep_backends::merge_defaults(&mut i.options, &i.kind, &aws, &cfg.vault);
    if a.allow_unversioned {
        s.options.insert("allow_unversioned".into(), "true".into());
    }
    let grace = a
        .grace
        .as_deref()
        .map(keysweep_rotate::parse_duration)
        .transpose()
        .context("--grace")?;
    let strategy = keysweep_backends::strategy(
        a.strategy.map(|s| match s {
            args::StrategyArg::Overlap => "overlap",
            args::StrategyArg::ContainFirst => "contain-first",
        }),
        grace,
        a.on_full.as_deref(),
    )?;
    let field = |f: &Option<String>| -> Result<Option<FieldPath>> {
        Ok(f.as_deref().map(FieldPath::new).transpose()?)
    };
    Ok(PlannedTarget {
        name: "command-line".into(),
        target: Target {
            store: s,
            field: field(&a.field)?,
            id_field: field(&a.id_field)?,
            issuer: i,
        },
        strategy,
        retire: keysweep_backends::retire(a.retire.as_deref())?,
    })
}

/// The targets `plan` was asked for.
fn targets(a: &args::PlanArgs, cfg: &RotateConfig) -> Result<Vec<PlannedTarget>> {
    if let (Some(store), Some(issuer)) = (&a.store, &a.issuer) {
        return Ok(vec![command_line_target(a, store, issuer, cfg)?]);
    }
    let findings = a.findings.as_deref().map(load_findings).transpose()?;
    let aws = aws_defaults(&a.common, cfg);
    cfg.planned_targets(findings.as_deref(), &a.fingerprints, &a.names, &aws)
        .map_err(|e| match e {
            ConfigError::NoRotations => anyhow!(
                "nothing to plan: no [[rotation]] in the config ({}), and no --store/--issuer \
                 given; `keysweep rotate locate --findings FILE --suggest-config FILE` writes \
                 entries",
                a.common
                    .config
                    .as_deref()
                    .unwrap_or(Path::new(keysweep_backends::DEFAULT_CONFIG))
                    .display()
            ),
            ConfigError::NoMatch => {
                anyhow!("{e}; run `keysweep rotate locate` to find where they live")
            }
            e => e.into(),
        })
}

async fn plan(a: &args::PlanArgs) -> Result<i32> {
    let cfg = load_config(&a.common)?;
    let targets = targets(a, &cfg)?;
    let key = FingerprintKey::from_env();
    let mut plans = Vec::new();
    for t in targets {
        match keysweep_backends::plan_target(&t, &key).await {
            Ok(np) => plans.push(np),
            Err(PlanError::Plan { source, .. }) => {
                eprintln!("error: {:?} ({}): {source}", t.name, t.target.store);
                return Ok(if exit_code(&source) == 1 { 1 } else { 2 });
            }
            Err(e) => return Err(e.into()),
        }
    }
    let file = PlanFile::new(plans);
    if let Some(out) = &a.out {
        file.save(out)?;
    }
    match a.common.format {
        RotateFormat::Json => print_json(&file)?,
        RotateFormat::Human => {
            render::plan(&mut std::io::stdout().lock(), &file, a.out.as_deref())?
        }
    }
    Ok(0)
}

async fn apply(a: &args::ApplyArgs) -> Result<i32> {
    let cfg = load_config(&a.common)?;
    let file = PlanFile::load(&a.plan)?;
    let ctx = Ctx {
        engine: engine(state_dir(&a.common, &cfg)),
        format: a.common.format,
    };
    let mut code = 0;
    let mut results = Vec::new();
    for np in &file.plans {
        let id = &np.plan.id;
        if ctx.format == RotateFormat::Human {
            println!("{id} ({}): applying…", np.name);
        }
        let before = render::journal_len(ctx.engine.dir(), id);
        let r = ctx.engine.apply(&np.plan).await;
        if ctx.format == RotateFormat::Human {
            render::journal_since(&mut std::io::stdout().lock(), ctx.engine.dir(), id, before)?;
        }
        match r {
            Ok(st) => {
                if ctx.format == RotateFormat::Human {
                    render::status_line(&mut std::io::stdout().lock(), &st, Some(&np.plan))?;
                }
                results.push(serde_json::json!({"name": np.name, "status": st}));
            }
            Err(e) => {
                let c = exit_code(&e);
                code = code.max(c);
                eprintln!("error: apply {id}: {e}");
                if let Some(h) = hint(&e, id) {
                    eprintln!("hint: {h}");
                }
                results.push(serde_json::json!({
                    "name": np.name,
                    "rotation_id": id,
                    "error": e.to_string(),
                    "error_class": e.class(),
                    "status": ctx.engine.status(id).ok(),
                }));
            }
        }
    }
    match ctx.format {
        RotateFormat::Json => print_json(&serde_json::json!({ "results": results }))?,
        RotateFormat::Human => {
            let failed = results.iter().filter(|r| r.get("error").is_some()).count();
            println!(
                "\nApply complete: {} rotated, {} not rotated.",
                results.len() - failed,
                failed
            );
        }
    }
    Ok(code)
}

fn status(c: &Common, id: Option<&str>) -> Result<i32> {
    let ctx = Ctx::new(c)?;
    let ids = match id {
        Some(id) => vec![id.to_string()],
        None => ctx.engine.list()?,
    };
    let mut rows = Vec::new();
    for id in &ids {
        let st = ctx
            .engine
            .status(id)
            .map_err(|e| anyhow!("rotation {id}: {e}"))?;
        let plan = ctx.engine.plan_of(id).ok();
        rows.push((st, plan));
    }
    match c.format {
        RotateFormat::Json => print_json(
            &rows
                .iter()
                .map(|(st, p)| serde_json::json!({"status": st, "target": p.as_ref().map(|p| &p.target)}))
                .collect::<Vec<_>>(),
        )?,
        RotateFormat::Human => {
            let mut out = std::io::stdout().lock();
            if rows.is_empty() {
                writeln!(out, "no rotations in {}", ctx.engine.dir().display())?;
            }
            for (st, p) in &rows {
                render::status_line(&mut out, st, p.as_ref())?;
            }
        }
    }
    Ok(0)
}
