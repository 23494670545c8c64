//! `keysweep rotate …`: locate, plan, apply, status, resume, rollback,
//! finalize.
//!
//! Exit codes: 0 done; 1 the operation did not happen but nothing is left
//! half-done (a stale or edited plan, a lock held elsewhere, a rotation that
//! aborted cleanly, a grace period not over, findings not located); 2 an
//! error (bad config, unreachable backend, a step that failed after promotion
//! and needs `resume`).

pub mod args;
mod config;
mod locate;
mod render;

use anyhow::{anyhow, bail, Context, Result};
use args::{Common, RotateCommand, RotateFormat};
use config::{PlannedTarget, RotateConfig};
use keysweep_rotate::{
    Engine, Error as RotateError, FingerprintKey, IssuerRef, PlanBuilder, RotationPlan,
    RotationStatus, StoreRef, Target,
};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variable naming the journal directory.
pub const STATE_DIR_ENV: &str = "KEYSWEEP_STATE_DIR";

/// Runs a rotate subcommand; returns the exit code.
pub fn run(cmd: &RotateCommand) -> Result<i32> {
    if std::env::var_os("LOG_SIGNABLE_BODY").is_some() {
        bail!(
            "LOG_SIGNABLE_BODY is set: the AWS SDK would log request bodies, which carry \
             secret values; unset it to rotate"
        );
    }
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

/// The plan file: one or more plans, each with the config entry's name.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanFile {
    /// Always `keysweep-rotation-plan`.
    pub format: String,
    /// File format version (1).
    pub version: u32,
    /// The rotations.
    pub plans: Vec<NamedPlan>,
}

/// A plan and the name of the config entry it came from.
#[derive(Debug, Serialize, Deserialize)]
pub struct NamedPlan {
    /// `[[rotation]]` name, or `command-line`.
    pub name: String,
    /// The plan.
    pub plan: RotationPlan,
}

const PLAN_FORMAT: &str = "keysweep-rotation-plan";

impl PlanFile {
    fn load(path: &Path) -> Result<PlanFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read plan {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow!("{}: not JSON ({e})", path.display()))?;
        if v.get("format").and_then(|f| f.as_str()) == Some(PLAN_FORMAT) {
            return serde_json::from_value(v)
                .map_err(|e| anyhow!("{}: not a keysweep plan ({e})", path.display()));
        }
        // A bare RotationPlan (library users write these).
        let plan: RotationPlan = serde_json::from_value(v)
            .map_err(|e| anyhow!("{}: not a keysweep plan ({e})", path.display()))?;
        Ok(PlanFile {
            format: PLAN_FORMAT.into(),
            version: 1,
            plans: vec![NamedPlan {
                name: plan.id.clone(),
                plan,
            }],
        })
    }
}

/// What every engine-backed subcommand needs.
struct Ctx {
    engine: Engine,
    format: RotateFormat,
}

impl Ctx {
    fn new(c: &Common) -> Result<Ctx> {
        let cfg = RotateConfig::load(c.config.as_deref())?;
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
    c.state_dir
        .clone()
        .or_else(|| cfg.state_dir.clone())
        .or_else(|| std::env::var_os(STATE_DIR_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".keysweep/rotations"))
}

fn engine(dir: PathBuf) -> Engine {
    Engine::builder(dir, Arc::new(keysweep_backends::Backends))
        .key(FingerprintKey::from_env())
        .build()
}

/// `[aws]` defaults with `--endpoint-url`/`--region` on top.
fn aws_defaults(c: &Common, cfg: &RotateConfig) -> std::collections::BTreeMap<String, String> {
    let mut aws = cfg.aws.clone();
    if let Some(e) = &c.endpoint_url {
        aws.insert("endpoint_url".into(), e.clone());
    }
    if let Some(r) = &c.region {
        aws.insert("region".into(), r.clone());
    }
    aws
}

fn print_json(v: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The targets `plan` was asked for.
fn targets(a: &args::PlanArgs, cfg: &RotateConfig) -> Result<Vec<PlannedTarget>> {
    let aws = aws_defaults(&a.common, cfg);
    if let (Some(store), Some(issuer)) = (&a.store, &a.issuer) {
        let (skind, locator) = store
            .split_once(':')
            .ok_or_else(|| anyhow!("--store must be KIND:LOCATOR, got {store:?}"))?;
        let (ikind, principal) = issuer.split_once(':').unwrap_or((issuer.as_str(), ""));
        let mut s = StoreRef::new(skind, locator);
        let mut i = IssuerRef::new(ikind, principal);
        for kv in &a.store_opts {
            let (k, v) = config::key_value(kv)?;
            s.options.insert(k, v);
        }
        for kv in &a.issuer_opts {
            let (k, v) = config::key_value(kv)?;
            i.options.insert(k, v);
        }
        config::merge_defaults(&mut s.options, skind, &aws, &cfg.vault);
        config::merge_defaults(&mut i.options, ikind, &aws, &cfg.vault);
        if a.allow_unversioned {
            s.options.insert("allow_unversioned".into(), "true".into());
        }
        let grace = a.grace.as_deref().map(config::parse_duration).transpose()?;
        let strategy = config::strategy(
            a.strategy.map(|s| match s {
                args::StrategyArg::Overlap => "overlap",
                args::StrategyArg::ContainFirst => "contain-first",
            }),
            grace,
            a.on_full.as_deref(),
        )?;
        return Ok(vec![PlannedTarget {
            name: "command-line".into(),
            target: Target {
                store: s,
                field: a.field.as_deref().map(config::field).transpose()?,
                id_field: a.id_field.as_deref().map(config::field).transpose()?,
                issuer: i,
            },
            strategy,
            retire: config::retire(a.retire.as_deref())?,
        }]);
    }
    if cfg.rotations.is_empty() {
        bail!(
            "nothing to plan: no [[rotation]] in the config ({}), and no --store/--issuer given; \
             `keysweep rotate locate --findings FILE --suggest-config FILE` writes entries",
            a.common
                .config
                .as_deref()
                .unwrap_or(Path::new(config::DEFAULT_CONFIG))
                .display()
        );
    }
    let findings = match &a.findings {
        Some(p) => config::load_findings(p)?,
        None => Vec::new(),
    };
    if a.findings.is_some() && findings.is_empty() {
        bail!("the findings file lists no findings; nothing to rotate");
    }
    let fps: Vec<String> = a
        .fingerprints
        .iter()
        .map(|f| f.to_ascii_lowercase())
        .collect();
    let selected = cfg.select(&findings, &fps, &a.names)?;
    if selected.is_empty() {
        bail!(
            "no [[rotation]] in the config matches the given findings/fingerprints; \
             run `keysweep rotate locate` to find where they live"
        );
    }
    selected
        .into_iter()
        .map(|r| {
            r.to_target(&aws, &cfg.vault)
                .with_context(|| format!("[[rotation]] {:?}", r.name))
        })
        .collect()
}

async fn plan(a: &args::PlanArgs) -> Result<i32> {
    let cfg = RotateConfig::load(a.common.config.as_deref())?;
    let targets = targets(a, &cfg)?;
    let factory = keysweep_backends::Backends;
    let key = FingerprintKey::from_env();
    let mut plans = Vec::new();
    for t in targets {
        use keysweep_rotate::BackendFactory;
        let store = factory
            .store(&t.target.store)
            .await
            .map_err(|e| anyhow!("{:?}: store {}: {e}", t.name, t.target.store))?;
        let issuer = factory
            .issuer(&t.target.issuer)
            .await
            .map_err(|e| anyhow!("{:?}: issuer {}: {e}", t.name, t.target.issuer.kind))?;
        let mut b = PlanBuilder::new();
        b.strategy(t.strategy).retire(t.retire).key(key.clone());
        if let Some(f) = &t.target.field {
            b.field(f.clone());
        }
        if let Some(f) = &t.target.id_field {
            b.id_field(f.clone());
        }
        let plan = match b.plan(store.as_ref(), issuer.as_ref()).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {:?} ({}): {e}", t.name, t.target.store);
                return Ok(if exit_code(&e) == 1 { 1 } else { 2 });
            }
        };
        plans.push(NamedPlan { name: t.name, plan });
    }
    let file = PlanFile {
        format: PLAN_FORMAT.into(),
        version: 1,
        plans,
    };
    if let Some(out) = &a.out {
        let mut dest = crate::output::open(Some(out))?;
        serde_json::to_writer_pretty(&mut dest, &file)?;
        dest.write_all(b"\n")?;
        dest.finish()?;
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
    let cfg = RotateConfig::load(a.common.config.as_deref())?;
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
