//! The forms the collector knows: the same JSON configs the widget uses, one file per form.
//!
//! A broken edit never reaches a visitor: each file's last good version stays in use (for
//! scoring and for the config served at `/forms/<file>`) until the file is valid again, and the
//! problem is reported. Changes are noticed by content, not by modification time, so a file
//! copied with its old time kept (`cp -p`, `rsync -t`) is reloaded too.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use bantam_engine::{delivery_warnings, Form};

/// One config file as last loaded without error.
#[derive(Debug, Clone)]
struct GoodFile {
    /// The file's text, served to widgets as it is.
    text: Arc<str>,
    /// The validated form.
    form: Arc<Form>,
    /// The same form in each other language it can be shown in (`"locale": "auto"`,
    /// `translations`), read once here so re-scoring a lead never parses a config.
    localised: Vec<Arc<Form>>,
    /// The compiled form (every language), served to widgets that ask for it: the lean widget
    /// reads it without a validator.
    compiled: Arc<str>,
    /// `text` and `compiled` gzipped, made once here for the browsers that take gzip.
    text_gzip: Bytes,
    compiled_gzip: Bytes,
    /// The recorded version (in the store's history) this text is, once known.
    version: Option<i64>,
}

/// Something wrong with the forms folder, for the log and `bantam-collector check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file at fault, as a path.
    pub file: String,
    /// `true` for an error (the file is not in use as it is), `false` for a warning.
    pub error: bool,
    /// What is wrong, starting with the config path where one field is at fault.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.error { "error" } else { "warning" };
        write!(f, "{}: {kind}: {}", self.file, self.message)
    }
}

/// Forms by id, loaded from a folder of `*.json` configs.
#[derive(Debug, Default)]
pub struct Forms {
    by_id: HashMap<String, Arc<Form>>,
    /// By form id: the form in its other languages (see [`Forms::get_for`]).
    localised: HashMap<String, Vec<Arc<Form>>>,
    /// By file name (`demo.json`): the version in use.
    files: HashMap<String, GoodFile>,
    /// What was wrong at the last load, file by file.
    problems: Vec<Problem>,
    /// A hash of every file's name and content, to notice changes.
    fingerprint: u64,
}

impl Forms {
    /// No forms: every lead is quarantined as one of an unknown form.
    pub fn empty() -> Forms {
        Forms::default()
    }

    /// Loads every `*.json` in `dir`. A file that is not a valid config is left out and
    /// reported in [`Forms::problems`].
    ///
    /// # Errors
    /// A message naming the folder when it cannot be read.
    pub fn load(dir: &Path) -> Result<Forms, String> {
        Forms::empty().reload(dir)
    }

    /// Loads `dir` again. A file that became broken keeps its last good version from `self`
    /// (reported as an error that says so).
    ///
    /// # Errors
    /// A message naming the folder when it cannot be read.
    pub fn reload(&self, dir: &Path) -> Result<Forms, String> {
        Ok(self.reload_from(read_configs(dir)?))
    }

    /// [`Forms::reload`] from files already read.
    fn reload_from(&self, configs: Configs) -> Forms {
        let mut fresh = Forms {
            fingerprint: configs.fingerprint,
            ..Forms::default()
        };
        for (path, text) in configs.files {
            let name = file_name(&path);
            let shown = path.display().to_string();
            let parsed = text.and_then(|text| parse(&text).map(|form| (text, form)));
            let good = match parsed {
                Ok((text, form)) => match fresh.by_id.get(&form.id) {
                    Some(_) => Err(format!(
                        "formId \"{}\" is also used by another file; this one is not used",
                        form.id
                    )),
                    None => {
                        let localised = localised(&text, &form);
                        let forms: Vec<&Form> = std::iter::once(&form)
                            .chain(localised.iter().map(|f| &**f))
                            .collect();
                        // The same text as before keeps the version it was known as.
                        let version = self
                            .files
                            .get(&name)
                            .filter(|old| *old.text == *text)
                            .and_then(|old| old.version);
                        let compiled = bantam_engine::compile(&forms);
                        Ok(GoodFile {
                            version,
                            text_gzip: gzip(text.as_bytes()),
                            compiled_gzip: gzip(compiled.as_bytes()),
                            compiled: compiled.into(),
                            localised,
                            text: text.into(),
                            form: Arc::new(form),
                        })
                    }
                },
                Err(message) => Err(message),
            };
            let good = match good {
                Ok(good) => good,
                Err(message) => {
                    let previous = self
                        .files
                        .get(&name)
                        .filter(|old| !fresh.by_id.contains_key(&old.form.id));
                    let consequence = match previous {
                        Some(_) => "the last good version of this file stays in use",
                        None => "not in use: leads for its form wait in quarantine",
                    };
                    fresh.problems.push(Problem {
                        file: shown,
                        error: true,
                        message: format!("{message} ({consequence})"),
                    });
                    match previous {
                        Some(old) => old.clone(),
                        None => continue,
                    }
                }
            };
            for warning in delivery_warnings(&good.form) {
                fresh.problems.push(Problem {
                    file: path.display().to_string(),
                    error: false,
                    message: format!("{}: {}", warning.path, warning.message),
                });
            }
            fresh.by_id.insert(good.form.id.clone(), good.form.clone());
            fresh
                .localised
                .insert(good.form.id.clone(), good.localised.clone());
            fresh.files.insert(name, good);
        }
        fresh
    }

    /// One form, by id.
    pub fn get(&self, id: &str) -> Option<Arc<Form>> {
        self.by_id.get(id).cloned()
    }

    /// One form, by id, as shown in `locale`: a form that can be shown in several languages
    /// (`"locale": "auto"`, `translations`) is read again for that one, so a lead is re-scored
    /// with the reasons in the visitor's language.
    pub fn get_for(&self, id: &str, locale: &str) -> Option<Arc<Form>> {
        let form = self.get(id)?;
        let other = self
            .localised
            .get(id)
            .and_then(|forms| forms.iter().find(|f| f.locale == locale));
        Some(other.cloned().unwrap_or(form))
    }

    /// The text of the config file `name` (`demo.json`) in use: its last good version.
    pub fn config_text(&self, name: &str) -> Option<Arc<str>> {
        self.files.get(name).map(|f| f.text.clone())
    }

    /// The name of the config file (`demo.json`) that holds form `id`, if one is in use.
    pub fn file_of(&self, id: &str) -> Option<String> {
        self.files
            .iter()
            .find(|(_, good)| good.form.id == id)
            .map(|(name, _)| name.clone())
    }

    /// The recorded version of form `id` in use, once known (see [`Forms::set_version`]).
    pub fn version_of(&self, id: &str) -> Option<i64> {
        self.files
            .values()
            .find(|good| good.form.id == id)
            .and_then(|good| good.version)
    }

    /// Every file in use: its name, its form id, its text and its version once known.
    pub fn files(&self) -> Vec<(String, String, Arc<str>, Option<i64>)> {
        let mut files: Vec<_> = self
            .files
            .iter()
            .map(|(name, good)| {
                (
                    name.clone(),
                    good.form.id.clone(),
                    good.text.clone(),
                    good.version,
                )
            })
            .collect();
        files.sort();
        files
    }

    /// Records that the file `name`, while it holds exactly `text`, is `version` of its form:
    /// leads scored with it carry that number. Nothing changes when the file holds another
    /// text by now.
    pub fn set_version(&mut self, name: &str, text: &str, version: i64) {
        if let Some(good) = self.files.get_mut(name).filter(|g| *g.text == *text) {
            good.version = Some(version);
        }
    }

    /// The compiled form of the config file `name` in use (see [`bantam_engine::compile`]).
    pub fn compiled_text(&self, name: &str) -> Option<Arc<str>> {
        self.files.get(name).map(|f| f.compiled.clone())
    }

    /// [`Forms::config_text`] (or, `compiled`, [`Forms::compiled_text`]) gzipped.
    pub fn gzipped(&self, name: &str, compiled: bool) -> Option<Bytes> {
        let file = self.files.get(name)?;
        Some(
            if compiled {
                &file.compiled_gzip
            } else {
                &file.text_gzip
            }
            .clone(),
        )
    }

    /// What was wrong at the last load: broken files (errors) and delivery warnings.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The ids of the loaded forms.
    pub fn ids(&self) -> Vec<String> {
        self.by_id.keys().cloned().collect()
    }

    /// How many forms are loaded.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no form is loaded.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds a form (for tests and embedding).
    pub fn insert(&mut self, form: Form) {
        self.by_id.insert(form.id.clone(), Arc::new(form));
    }
}

/// `form` read again for each other language it can be shown in.
fn localised(text: &str, form: &Form) -> Vec<Arc<Form>> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    form.locales
        .iter()
        .filter(|locale| **locale != form.locale)
        .filter_map(|locale| bantam_engine::parse_config_for(json.clone(), &[locale]).ok())
        .map(Arc::new)
        .collect()
}

fn parse(text: &str) -> Result<Form, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    bantam_engine::parse_config(json).map_err(|e| e.to_string())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn config_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The config files of a folder as read at one moment, with a hash of their names and
/// contents to notice any change.
struct Configs {
    files: Vec<(PathBuf, Result<String, String>)>,
    fingerprint: u64,
}

/// Reads every `*.json` in `dir`, once.
fn read_configs(dir: &Path) -> Result<Configs, String> {
    let mut hasher = DefaultHasher::new();
    let files = config_files(dir)?
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
            file_name(&path).hash(&mut hasher);
            if let Ok(text) = &text {
                text.hash(&mut hasher);
            }
            (path, text)
        })
        .collect();
    Ok(Configs {
        files,
        fingerprint: hasher.finish(),
    })
}

/// Prints each problem of `forms` as one log line.
pub fn log_problems(forms: &Forms) {
    for problem in forms.problems() {
        eprintln!("bantam-collector: {problem}");
    }
}

/// Reloads `forms` from `dir` whenever a file there changes (by content), checking every
/// `every`. A broken edit is reported and the file's last good version stays in use.
pub fn watch(dir: PathBuf, forms: Arc<RwLock<Forms>>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            let current = forms.read().map(|f| f.fingerprint).unwrap_or_default();
            let (dir, forms) = (dir.clone(), forms.clone());
            // File reads stay off the async threads.
            let reloaded = tokio::task::spawn_blocking(move || {
                let reloaded = match read_configs(&dir) {
                    Ok(configs) if configs.fingerprint == current => return None,
                    Ok(configs) => Ok(forms.read().ok()?.reload_from(configs)),
                    Err(err) => Err(err),
                };
                Some((reloaded, dir, forms))
            })
            .await;
            let Ok(Some((reloaded, dir, forms))) = reloaded else {
                continue;
            };
            match reloaded {
                Ok(fresh) => {
                    eprintln!(
                        "bantam-collector: reloaded {} form(s) from {}",
                        fresh.len(),
                        dir.display()
                    );
                    log_problems(&fresh);
                    if let Ok(mut guard) = forms.write() {
                        *guard = fresh;
                    }
                }
                Err(err) => eprintln!("bantam-collector: keeping the forms loaded before; {err}"),
            }
        }
    });
}

/// `bytes` gzipped at the best compression (a form's text: a few kilobytes).
fn gzip(bytes: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Into memory: nothing to fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default().into()
}
