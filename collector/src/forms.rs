//! The forms the collector knows: the same JSON configs the widget uses, one file per form.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use bantam_engine::Form;

/// Forms by id, loaded from a folder of `*.json` configs.
#[derive(Debug, Default)]
pub struct Forms {
    by_id: HashMap<String, Arc<Form>>,
    /// The newest modification time and file count seen, to notice changes.
    stamp: (Option<SystemTime>, usize),
}

impl Forms {
    /// No forms: every lead is refused as an unknown form.
    pub fn empty() -> Forms {
        Forms::default()
    }

    /// Loads every `*.json` in `dir`.
    ///
    /// # Errors
    /// A message naming the file and the config error, for a folder that cannot be read, a
    /// file that is not a valid config, or two files with the same `formId`.
    pub fn load(dir: &Path) -> Result<Forms, String> {
        let mut by_id = HashMap::new();
        for path in config_files(dir)? {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
            let form = bantam_engine::parse_config(json)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(other) = by_id.insert(form.id.clone(), Arc::new(form)) {
                return Err(format!(
                    "{}: formId \"{}\" is also used by another file",
                    path.display(),
                    other.id
                ));
            }
        }
        Ok(Forms {
            by_id,
            stamp: stamp(dir),
        })
    }

    /// One form, by id.
    pub fn get(&self, id: &str) -> Option<Arc<Form>> {
        self.by_id.get(id).cloned()
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

fn stamp(dir: &Path) -> (Option<SystemTime>, usize) {
    let files = config_files(dir).unwrap_or_default();
    let newest = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max();
    (newest, files.len())
}

/// Reloads `forms` from `dir` whenever a file there changes, checking every `every`.
/// A broken edit is reported and the forms loaded before stay in use.
pub fn watch(dir: PathBuf, forms: Arc<RwLock<Forms>>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            let current = forms.read().map(|f| f.stamp).unwrap_or_default();
            if stamp(&dir) == current {
                continue;
            }
            match Forms::load(&dir) {
                Ok(fresh) => {
                    eprintln!(
                        "bantam-collector: reloaded {} form(s) from {}",
                        fresh.len(),
                        dir.display()
                    );
                    if let Ok(mut guard) = forms.write() {
                        *guard = fresh;
                    }
                }
                Err(err) => {
                    eprintln!("bantam-collector: keeping the forms loaded before; {err}");
                    if let Ok(mut guard) = forms.write() {
                        guard.stamp = stamp(&dir);
                    }
                }
            }
        }
    });
}
