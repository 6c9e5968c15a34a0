//! `bantam-collector`: serves the lead API and the demo page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::{Arc, RwLock};

use bantam_collector::fit::{fit, FitOptions, GradeGoal, Target};
use bantam_collector::import::{check as check_csv, ImportError};
use bantam_collector::{
    app, log_problems, record_form_versions, routes::Routes, run_deliveries, serve,
    watch_form_versions, watch_forms, widget_built_in, AppState, Forms, Forwarding, Limits,
    Settings, Store, DEFAULT_FORWARD_LEASE,
};
use bantam_engine::Format;

const USAGE: &str = "usage: bantam-collector [options]
       bantam-collector --version           print the version (the engine's is the same)
       bantam-collector backup [--db PATH] OUT
                                            copy the SQLite database to the new file OUT,
                                            safely while the collector runs
       bantam-collector check [FORMS_DIR]   print every problem of every form (default www/forms);
                                            exit status 1 when a form has an error
       bantam-collector fit --form ID [--db DB] [--forms DIR] [--outcome won|accepted]
                            [--hot-top PCT | --hot-converts PCT] [--write FILE]
                                            learn points from the form's sales outcomes: print
                                            the report and, with --write, the proposed config
       bantam-collector import --form ID [--db DB] [--forms DIR] [--map COLUMN=TARGET ...]
                               [--dry-run] FILE.csv
                                            store historical leads with their outcomes from a
                                            CSV (all rows or none)
  --listen ADDR:PORT   address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  --db PATH|URL        SQLite database file, or a PostgreSQL database
                       (postgres://user:password@host:port/dbname) that several collectors
                       may share; default env BANTAM_DB, else bantam.db
  --www DIR            folder served at / (default www)
  --forms DIR          form configs (*.json) leads are checked and re-scored against
                       (default www/forms); reloaded when a file changes
  --allow-origin URL   an origin whose pages may post leads (repeatable; * for any; or env
                       BANTAM_ALLOW_ORIGINS, separated by spaces or commas); leads from
                       other origins are kept in quarantine
  --admin-token TOKEN  the API's bearer token; also sets up the first admin user at
                       /inbox/login (or env BANTAM_ADMIN_TOKEN)
  --rate-limit N       posts per minute per client address, 0 for none (default 120)
  --burst N            posts a client may make at once (default 30)
  --forward-url URL    forward every stored lead to this webhook (JSON, retried, signed)
  --forward-secret S   HMAC-SHA256 signing secret for forwards (or env BANTAM_FORWARD_SECRET)
  --forward-format F   json (default: the lead document), hubspot, salesforce or form; field
                       names and the Salesforce oid come from each form's `delivery`
  --header-timeout S   seconds a client has to send a request head; also how long a
                       connection may stay idle between requests (default 10)
  --body-timeout S     seconds a client has to send a request body (default 20; then 408)
  --max-connections-per-client N
                       connections one client address may hold at once (default 256; 0 for
                       no cap: behind a reverse proxy every client has the proxy's address)
  --shutdown-timeout S seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight
                       (default 10)
  --trusted-proxy IP   a reverse proxy's address (repeatable): on its connections the client's
                       address, for the rate limits, is read from X-Forwarded-For
  --forward-lease S    seconds a worker keeps the deliveries it took before another may
                       take them (PostgreSQL shared by several collectors; default 60)
  --routes FILE        per-form destinations (JSON, Slack, e-mail, the CRM adapters) with
                       rules on grade, score, spam and form, and the reps who own hot
                       leads in turn (or env BANTAM_ROUTES; see the README); with
                       --forward-url, that is one more destination, \"forward\"
  --public-url URL     this collector's address as people reach it (or env
                       BANTAM_PUBLIC_URL): alerts link to the lead in the inbox
  --retention-days N   delete leads older than N days that sales did not accept or win,
                       checked hourly and recorded (or env BANTAM_RETENTION_DAYS; default:
                       keep every lead)";

struct Args {
    listen: SocketAddr,
    db: String,
    www: PathBuf,
    forms: PathBuf,
    settings: Settings,
    limits: Limits,
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Leads older than this many days that sales did not take are deleted.
    retention_days: Option<u32>,
    /// The destinations: the routes file's and the `--forward-*` flags'.
    routes: Routes,
    /// The public URL alerts link to.
    public_url: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        db: default_db(),
        www: PathBuf::from("www"),
        forms: PathBuf::from("www/forms"),
        settings: Settings {
            allowed_origins: std::env::var("BANTAM_ALLOW_ORIGINS")
                .unwrap_or_default()
                .split([' ', ','])
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            admin_token: std::env::var("BANTAM_ADMIN_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            rate_per_minute: 120,
            burst: 30,
            forwarding: None,
        },
        limits: Limits::default(),
        trusted_proxies: Vec::new(),
        retention_days: None,
        routes: Routes::none(),
        public_url: None,
    };
    let mut routes_file = std::env::var("BANTAM_ROUTES")
        .ok()
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let mut public_url = std::env::var("BANTAM_PUBLIC_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let days = |flag: &str, v: &str| -> Result<u32, String> {
        v.parse()
            .ok()
            .filter(|d| *d > 0)
            .ok_or_else(|| format!("{flag}: \"{v}\" is not a whole number of days above 0"))
    };
    if let Ok(v) = std::env::var("BANTAM_RETENTION_DAYS") {
        if !v.is_empty() {
            args.retention_days = Some(days("BANTAM_RETENTION_DAYS", &v)?);
        }
    }
    let mut forward_secret = None;
    let mut forward_format = None;
    let mut forward_lease = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                args.listen = v.parse().map_err(|_| {
                    format!("--listen: \"{v}\" is not ADDR:PORT, like 127.0.0.1:8080")
                })?;
            }
            "--db" => args.db = value()?,
            "--www" => args.www = PathBuf::from(value()?),
            "--forms" => args.forms = PathBuf::from(value()?),
            "--allow-origin" => {
                let origin = value()?;
                check_origin(&origin)?;
                args.settings.allowed_origins.push(origin);
            }
            "--admin-token" => {
                let token = value()?;
                // An empty token would let an empty Basic password read every lead.
                if token.trim().is_empty() {
                    return Err("--admin-token: the token must not be empty (leave the flag out to turn reads off)".into());
                }
                args.settings.admin_token = Some(token);
            }
            "--forward-url" => {
                let url = value()?;
                if !url.starts_with("https://") && !url.starts_with("http://") {
                    return Err(format!(
                        "--forward-url: \"{url}\" must start with https:// or http://"
                    ));
                }
                args.settings.forwarding = Some(Forwarding {
                    url,
                    secret: std::env::var("BANTAM_FORWARD_SECRET")
                        .ok()
                        .filter(|s| !s.is_empty()),
                    timeout: std::time::Duration::from_secs(10),
                    format: Format::Json,
                    lease: DEFAULT_FORWARD_LEASE,
                });
            }
            "--forward-secret" => forward_secret = Some(value()?),
            "--forward-format" => {
                let v = value()?;
                let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
                forward_format = Some(Format::from_name(&v).ok_or_else(|| {
                    format!(
                        "--forward-format: \"{v}\" is not one of {}",
                        names.join(", ")
                    )
                })?);
            }
            "--retention-days" => {
                let v = value()?;
                args.retention_days = Some(days(&flag, &v)?);
            }
            "--forward-lease" => {
                let v = value()?;
                let seconds: u64 = v.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!("--forward-lease: \"{v}\" is not a whole number of seconds above 0")
                })?;
                forward_lease = Some(std::time::Duration::from_secs(seconds));
            }
            "--rate-limit" | "--burst" => {
                let v = value()?;
                let n: u32 = v
                    .parse()
                    .map_err(|_| format!("{flag}: \"{v}\" is not a whole number"))?;
                if flag == "--burst" {
                    args.settings.burst = n;
                } else {
                    args.settings.rate_per_minute = n;
                }
            }
            "--header-timeout" | "--body-timeout" | "--shutdown-timeout" => {
                let v = value()?;
                let seconds: u64 = v
                    .parse()
                    .ok()
                    .filter(|s| (1..=3600).contains(s))
                    .ok_or_else(|| {
                        format!("{flag}: \"{v}\" is not a number of seconds from 1 to 3600")
                    })?;
                let limit = match flag.as_str() {
                    "--header-timeout" => &mut args.limits.header_timeout,
                    "--body-timeout" => &mut args.limits.body_timeout,
                    _ => &mut args.limits.shutdown_timeout,
                };
                *limit = std::time::Duration::from_secs(seconds);
            }
            "--max-connections-per-client" => {
                let v = value()?;
                args.limits.per_client = v
                    .parse()
                    .map_err(|_| format!("{flag}: \"{v}\" is not a whole number"))?;
            }
            "--routes" => routes_file = Some(PathBuf::from(value()?)),
            "--public-url" => public_url = Some(value()?),
            "--trusted-proxy" => {
                let v = value()?;
                args.trusted_proxies.push(v.parse().map_err(|_| {
                    format!("--trusted-proxy: \"{v}\" is not an IP address, like 127.0.0.1")
                })?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument \"{other}\"")),
        }
    }
    if let Some(secret) = forward_secret {
        match &mut args.settings.forwarding {
            Some(forwarding) => forwarding.secret = Some(secret),
            None => return Err("--forward-secret needs --forward-url".into()),
        }
    }
    if let Some(format) = forward_format {
        match &mut args.settings.forwarding {
            Some(forwarding) => forwarding.format = format,
            None => return Err("--forward-format needs --forward-url".into()),
        }
    }
    if let Some(lease) = forward_lease {
        match &mut args.settings.forwarding {
            Some(forwarding) => forwarding.lease = lease,
            None if routes_file.is_some() => {}
            None => return Err("--forward-lease needs --forward-url or --routes".into()),
        }
    }
    if let Some(url) = &public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "--public-url: \"{url}\" must start with https:// or http://"
            ));
        }
    }
    args.public_url = public_url;
    args.routes = match &routes_file {
        Some(path) => Routes::load(path, args.settings.forwarding.as_ref())?,
        None => Routes::from_forwarding(args.settings.forwarding.as_ref()),
    };
    if let Some(lease) = forward_lease {
        args.routes.lease = lease;
    }
    for origin in &args.settings.allowed_origins {
        check_origin(origin)?;
    }
    if !args.db.contains("://") && inside(std::path::Path::new(&args.db), &args.www) {
        return Err(format!(
            "--db {} is inside --www {}: the site folder is public, so every lead would be downloadable; keep the database elsewhere",
            args.db,
            args.www.display()
        ));
    }
    Ok(args)
}

/// Whether the file `path` is (or would be created) inside the folder `dir`.
fn inside(path: &std::path::Path, dir: &std::path::Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    parent
        .canonicalize()
        .is_ok_and(|parent| parent.starts_with(&dir))
}

/// An allowed origin is `*` or `scheme://host[:port]`, without a path: what browsers send.
fn check_origin(origin: &str) -> Result<(), String> {
    let ok = origin == "*"
        || origin.split_once("://").is_some_and(|(scheme, rest)| {
            (scheme == "https" || scheme == "http")
                && !rest.is_empty()
                && !rest.trim_end_matches('/').contains('/')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "allowed origin \"{origin}\" is not an origin like https://www.example.com (scheme and host, no path) or *"
        ))
    }
}

/// `bantam-collector backup [--db PATH] OUT`: a consistent copy of the SQLite database, made
/// while the collector runs and leads arrive (`VACUUM INTO` reads one snapshot; writers go on).
fn backup(args: &[String]) -> ExitCode {
    let (db, out) = match args {
        [out] => ("bantam.db", out.as_str()),
        [flag, db, out] if flag == "--db" => (db.as_str(), out.as_str()),
        _ => {
            eprintln!("bantam-collector: backup takes [--db PATH] OUT\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if db.contains("://") {
        eprintln!("bantam-collector: backup copies a SQLite file; for PostgreSQL use pg_dump (it is consistent while leads arrive too)");
        return ExitCode::from(2);
    }
    if !std::path::Path::new(db).is_file() {
        eprintln!("bantam-collector: backup: no database at {db}");
        return ExitCode::FAILURE;
    }
    if std::path::Path::new(out).exists() {
        eprintln!("bantam-collector: backup: {out} exists; give a new file name");
        return ExitCode::FAILURE;
    }
    let copied =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|conn| {
                conn.busy_timeout(std::time::Duration::from_secs(30))?;
                conn.execute("VACUUM INTO ?1", [out])
            });
    match copied {
        Ok(_) => {
            let size = std::fs::metadata(out).map_or(0, |m| m.len());
            println!("bantam-collector: backed up {db} to {out} ({size} bytes)");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bantam-collector: backup of {db} to {out} failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `bantam-collector check [FORMS_DIR]`: every problem of every form, one per line.
fn check(dir: &std::path::Path) -> ExitCode {
    let forms = match Forms::load(dir) {
        Ok(forms) => forms,
        Err(err) => {
            eprintln!("bantam-collector: {err}");
            return ExitCode::FAILURE;
        }
    };
    for problem in forms.problems() {
        println!("{problem}");
    }
    let errors = forms.problems().iter().filter(|p| p.error).count();
    let warnings = forms.problems().len() - errors;
    println!(
        "{} form(s) in {}: {errors} error(s), {warnings} warning(s)",
        forms.len(),
        dir.display()
    );
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Where the database is when `--db` is not given: `BANTAM_DB`, else `bantam.db`.
fn default_db() -> String {
    std::env::var("BANTAM_DB")
        .ok()
        .filter(|db| !db.is_empty())
        .unwrap_or_else(|| "bantam.db".into())
}

/// Opens the database of a command that reads leads: a SQLite file must exist already.
async fn open_existing(db: &str, command: &str) -> Result<Store, ExitCode> {
    if !bantam_collector::is_postgres_url(db) && !std::path::Path::new(db).is_file() {
        eprintln!("bantam-collector: {command}: no database at {db} (give --db, or set BANTAM_DB)");
        return Err(ExitCode::FAILURE);
    }
    Store::open(db).await.map_err(|err| {
        eprintln!("bantam-collector: {command}: {err}");
        ExitCode::FAILURE
    })
}

/// The forms of `dir` and the one with id `form`, with the name of its file; says why not.
fn load_form(
    dir: &std::path::Path,
    form: &str,
    command: &str,
) -> Result<(Forms, Arc<bantam_engine::Form>, String), ExitCode> {
    let forms = Forms::load(dir).map_err(|err| {
        eprintln!("bantam-collector: {command}: cannot load forms: {err}");
        ExitCode::FAILURE
    })?;
    let found = forms.get(form).zip(forms.file_of(form));
    let Some((found, file)) = found else {
        let mut ids = forms.ids();
        ids.sort();
        eprintln!(
            "bantam-collector: {command}: no form \"{form}\" in {} (its forms: {}); bantam-collector check {} shows any broken file",
            dir.display(),
            if ids.is_empty() { "none".to_owned() } else { ids.join(", ") },
            dir.display()
        );
        return Err(ExitCode::FAILURE);
    };
    Ok((forms, found, file))
}

/// A percentage flag's value as a share: above 0, at most 100.
fn share(flag: &str, value: &str) -> Result<f64, String> {
    value
        .trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|p| *p > 0.0 && *p <= 100.0)
        .map(|p| p / 100.0)
        .ok_or_else(|| format!("{flag}: \"{value}\" is not a percentage above 0 and at most 100"))
}

/// Flags of `fit`.
struct FitArgs {
    form: String,
    db: String,
    forms: PathBuf,
    options: FitOptions,
    write: Option<PathBuf>,
}

fn parse_fit(args: &[String]) -> Result<FitArgs, String> {
    let mut form = None;
    let mut parsed = FitArgs {
        form: String::new(),
        db: default_db(),
        forms: PathBuf::from("www/forms"),
        options: FitOptions::default(),
        write: None,
    };
    let mut goal_flag: Option<&str> = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("fit: {flag} needs a value"))
        };
        match flag.as_str() {
            "--form" => form = Some(value()?.clone()),
            "--db" => parsed.db = value()?.clone(),
            "--forms" => parsed.forms = PathBuf::from(value()?),
            "--write" => parsed.write = Some(PathBuf::from(value()?)),
            "--outcome" => {
                parsed.options.target = match value()?.as_str() {
                    "won" => Target::Won,
                    "accepted" => Target::Accepted,
                    other => {
                        return Err(format!(
                            "fit: --outcome \"{other}\" is not won (won against lost) or accepted (accepted, won or lost against rejected)"
                        ))
                    }
                }
            }
            "--hot-top" | "--hot-converts" => {
                if let Some(other) = goal_flag {
                    return Err(format!("fit: {other} and {flag} both set the best grade; give one"));
                }
                goal_flag = Some(flag.as_str());
                let v = share(flag, value()?)?;
                parsed.options.goal = if flag == "--hot-top" {
                    GradeGoal::Top(v)
                } else {
                    GradeGoal::Converts(v)
                };
            }
            other => return Err(format!("fit: unknown argument \"{other}\"")),
        }
    }
    parsed.form = form.ok_or("fit needs --form ID")?;
    Ok(parsed)
}

/// `bantam-collector fit --form ID ...`: the fit's report of a form's sales outcomes and, with
/// `--write FILE`, the proposed config written to FILE (an existing FILE is kept as
/// `FILE.<time>.bak`).
async fn fit_command(args: &[String]) -> ExitCode {
    let args = match parse_fit(args) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("bantam-collector: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (forms, form, file) = match load_form(&args.forms, &args.form, "fit") {
        Ok(found) => found,
        Err(code) => return code,
    };
    let own = args.forms.join(&file);
    if let Some(write) = &args.write {
        let beside = write
            .parent()
            .zip(own.parent())
            .is_some_and(|(a, b)| same_dir(a, b));
        if beside
            && write.file_name() != own.file_name()
            && write.extension().is_some_and(|x| x == "json")
        {
            eprintln!(
                "bantam-collector: fit: {} is in the forms folder beside {file}: the collector would load two files for form \"{}\"; write it elsewhere, or to {} itself to apply it",
                write.display(),
                args.form,
                own.display()
            );
            return ExitCode::from(2);
        }
    }
    let store = match open_existing(&args.db, "fit").await {
        Ok(store) => store,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    let outcomes = match bantam_collector::learn::read_outcomes(&store, &args.form).await {
        Ok(outcomes) => outcomes,
        Err(err) => {
            eprintln!("bantam-collector: fit: {err}");
            return ExitCode::FAILURE;
        }
    };
    let read = started.elapsed();
    let started = std::time::Instant::now();
    let report = match fit(&form, &outcomes, &args.options) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("bantam-collector: fit of form \"{}\": {err}", args.form);
            return ExitCode::FAILURE;
        }
    };
    let fitted = started.elapsed();
    let Some(text) = forms.config_text(&file) else {
        eprintln!("bantam-collector: fit: {file} is no longer loaded");
        return ExitCode::FAILURE;
    };
    let proposal = match bantam_collector::learn::propose(&text, &form, report) {
        Ok(proposal) => proposal,
        Err(err) => {
            eprintln!("bantam-collector: fit: {err}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", proposal.to_text());
    println!(
        "Read {} leads with a sales status in {:.2} s; fitted in {:.2} s.",
        outcomes.len(),
        read.as_secs_f64(),
        fitted.as_secs_f64()
    );
    let Some(write) = args.write else {
        println!(
            "Write the proposed config with --write FILE, or review and apply it in the inbox: /inbox/forms/{}/fit",
            args.form
        );
        return ExitCode::SUCCESS;
    };
    let stamp = bantam_collector::learn::stamp_now();
    match bantam_collector::learn::write_config(&write, &proposal.config, None, &stamp) {
        Ok(backup) => {
            println!(
                "Wrote the proposed config to {}{}.",
                write.display(),
                backup.map_or(String::new(), |b| format!(
                    " (the previous file is kept as {})",
                    b.display()
                ))
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bantam-collector: fit: cannot write the proposal: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `bantam-collector import --form ID [--db DB] [--forms DIR] [--map COLUMN=TARGET ...]
/// [--dry-run] FILE.csv`: historical leads with their outcomes, every row or none.
async fn import_command(args: &[String]) -> ExitCode {
    let usage = |msg: &str| {
        eprintln!("bantam-collector: import: {msg}\n{USAGE}");
        ExitCode::from(2)
    };
    let (mut form, mut db, mut dir) = (None, default_db(), PathBuf::from("www/forms"));
    let (mut maps, mut file, mut dry_run) = (Vec::new(), None, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned();
        match arg.as_str() {
            "--form" | "--db" | "--forms" | "--map" => {
                let Some(v) = value() else {
                    return usage(&format!("{arg} needs a value"));
                };
                match arg.as_str() {
                    "--form" => form = Some(v),
                    "--db" => db = v,
                    "--forms" => dir = PathBuf::from(v),
                    _ => match v.rsplit_once('=') {
                        Some((column, to)) if !column.trim().is_empty() => {
                            maps.push((column.to_owned(), to.to_owned()));
                        }
                        _ => {
                            return usage(&format!(
                                "--map \"{v}\" is not COLUMN=TARGET, like \"Deal stage=outcome\""
                            ))
                        }
                    },
                }
            }
            "--dry-run" => dry_run = true,
            flag if flag.starts_with("--") => {
                return usage(&format!("unknown argument \"{flag}\""));
            }
            path if file.is_none() => file = Some(PathBuf::from(path)),
            extra => return usage(&format!("one CSV file, not also \"{extra}\"")),
        }
    }
    let Some(form) = form else {
        return usage("give the form the leads are for: --form ID");
    };
    let Some(file) = file else {
        return usage("give the CSV file to import");
    };
    let csv = match std::fs::read(&file) {
        Ok(csv) => csv,
        Err(err) => {
            eprintln!(
                "bantam-collector: import: cannot read {}: {err}",
                file.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let (forms, _, _) = match load_form(&dir, &form, "import") {
        Ok(found) => found,
        Err(code) => return code,
    };
    let checked = match check_csv(&forms, &form, &csv, &maps) {
        Ok(checked) => checked,
        Err(ImportError::Rows(rows)) => {
            const SHOWN: usize = 100;
            for row in rows.iter().take(SHOWN) {
                eprintln!("{}: {row}", file.display());
            }
            if rows.len() > SHOWN {
                eprintln!("… and {} more", rows.len() - SHOWN);
            }
            eprintln!(
                "bantam-collector: import: nothing was imported: {} problem(s) in {}; fix them and import the file again",
                rows.len(),
                file.display()
            );
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("bantam-collector: import: nothing was imported: {err}");
            return ExitCode::FAILURE;
        }
    };
    let summary = checked.summary();
    print!("{summary}");
    if dry_run {
        println!(
            "All {} rows of {} can be imported for form {form} (nothing stored: --dry-run).",
            summary.rows,
            file.display()
        );
        return ExitCode::SUCCESS;
    }
    let store = match Store::open(&db).await {
        Ok(store) => store,
        Err(err) => {
            eprintln!("bantam-collector: import: nothing was imported: {err}");
            return ExitCode::FAILURE;
        }
    };
    match checked.store(&store).await {
        Ok(stored) => {
            println!(
                "Imported {} rows of {} for form {form} into {}: {} new, {} already stored; {} sales statuses recorded.",
                summary.rows,
                file.display(),
                store.name(),
                stored.created,
                stored.existing,
                stored.statuses
            );
            println!("Next: bantam-collector fit --form {form} --db {db}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bantam-collector: import: nothing was imported: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Whether two folders are the same one.
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    let dir = |p: &std::path::Path| {
        if p.as_os_str().is_empty() {
            std::path::Path::new(".").canonicalize()
        } else {
            p.canonicalize()
        }
    };
    matches!((dir(a), dir(b)), (Ok(a), Ok(b)) if a == b)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut given = std::env::args().skip(1);
    let first = given.next();
    if matches!(first.as_deref(), Some("--version" | "-V")) {
        println!(
            "bantam-collector {} (engine {}; widget {})",
            env!("CARGO_PKG_VERSION"),
            bantam_engine::ENGINE_VERSION,
            if widget_built_in() {
                "built in"
            } else {
                "served from --www/dist"
            }
        );
        return ExitCode::SUCCESS;
    }
    if first.as_deref() == Some("backup") {
        let rest: Vec<String> = given.collect();
        return backup(&rest);
    }
    if first.as_deref() == Some("fit") {
        let rest: Vec<String> = given.collect();
        return fit_command(&rest).await;
    }
    if first.as_deref() == Some("import") {
        let rest: Vec<String> = given.collect();
        return import_command(&rest).await;
    }
    if first.as_deref() == Some("check") {
        let dir = given.next().unwrap_or_else(|| "www/forms".into());
        if let Some(extra) = given.next() {
            eprintln!("bantam-collector: check takes one folder, not also \"{extra}\"\n{USAGE}");
            return ExitCode::from(2);
        }
        return check(std::path::Path::new(&dir));
    }
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("bantam-collector: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let store = match Store::open(&args.db).await {
        Ok(store) => store,
        Err(err) => {
            eprintln!("bantam-collector: {err}");
            return ExitCode::FAILURE;
        }
    };
    let forms = match Forms::load(&args.forms) {
        Ok(forms) => forms,
        Err(err) => {
            eprintln!("bantam-collector: cannot load forms: {err}");
            return ExitCode::FAILURE;
        }
    };
    // A broken form does not stop the collector: its leads wait in quarantine.
    log_problems(&forms);
    let form_count = forms.len();
    let forms = Arc::new(RwLock::new(forms));
    watch_forms(
        args.forms.clone(),
        forms.clone(),
        std::time::Duration::from_secs(2),
    );
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("bantam-collector: cannot listen on {}: {err}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map_or(args.listen, |a| a);
    println!(
        "bantam-collector: listening on http://{addr}/ (database {}, {form_count} form(s) from {})",
        store.name(),
        args.forms.display()
    );
    eprintln!(
        "bantam-collector: version {}; the widget at /dist/ is {}",
        env!("CARGO_PKG_VERSION"),
        if widget_built_in() {
            "built into this binary"
        } else {
            "served from the --www folder's dist/ (build the widget before the collector to build it in)"
        }
    );
    eprintln!(
        "bantam-collector: leads accepted from this origin{}; from others they wait in quarantine (/inbox/quarantine)",
        if args.settings.allowed_origins.is_empty() {
            String::new()
        } else {
            format!(" and {}", args.settings.allowed_origins.join(", "))
        }
    );
    let (routes, public_url) = (args.routes.clone(), args.public_url.clone());
    let limits = args.limits;
    let state = AppState::new(store, forms, args.settings)
        .with_forms_dir(args.forms.clone())
        .with_limits(limits)
        .with_trusted_proxies(args.trusted_proxies)
        .with_routes(routes)
        .with_public_url(public_url);
    // Each form file becomes a recorded version (a first start, a hand edit), before the
    // first lead, so every lead names the version it was scored with.
    if let Err(err) = record_form_versions(&state).await {
        eprintln!("bantam-collector: cannot record the forms' versions: {err}");
    }
    watch_form_versions(state.clone(), std::time::Duration::from_secs(2));
    for destination in &state.routes().destinations {
        let signed = match &destination.sink {
            bantam_collector::routes::Sink::Webhook { secret: None, .. } => ", unsigned",
            bantam_collector::routes::Sink::Webhook { .. } => ", signed",
            _ => "",
        };
        println!(
            "bantam-collector: delivering to {} as {} ({}{signed})",
            destination.name,
            destination.sink.format_name(),
            destination.sink.describe()
        );
    }
    run_deliveries(state.outbox(), std::time::Duration::from_millis(500));
    if let Some(days) = args.retention_days {
        println!(
            "bantam-collector: retention: leads older than {days} days that sales did not accept or win are deleted (checked hourly; see /v1/erasures)"
        );
        tokio::spawn(bantam_collector::run_retention(state.store(), days));
    }
    let router = app(state, args.www);
    serve(listener, router, limits, async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => return,
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    })
    .await;
    ExitCode::SUCCESS
}
