//! Wheels built in code, so tests can feed pyzap both well-formed and
//! hostile archives (traversal paths, symlinks, tampered RECORD, truncation).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;
use zip::write::SimpleFileOptions;

/// The shared wheelhouse (`../shared/wheelhouse` beside the checkout).
pub fn wheelhouse() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = here.join("../../../shared/wheelhouse");
    assert!(
        path.is_dir(),
        "the shared wheelhouse is missing at {}: tests need ../shared/wheelhouse beside the checkout",
        path.display()
    );
    path.canonicalize().expect("canonical wheelhouse path")
}

/// Builds `name-version-py3-none-any.whl` with the files added.
pub struct WheelBuilder {
    name: String,
    version: String,
    tag: String,
    files: Vec<(String, Vec<u8>)>,
    requires: Vec<String>,
    entry_points: Option<String>,
    symlinks: Vec<(String, String)>,
    record_override: Option<String>,
    skip_record: Vec<String>,
    tampered: Vec<String>,
}

impl WheelBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        WheelBuilder {
            name: name.to_string(),
            version: version.to_string(),
            tag: "py3-none-any".into(),
            files: Vec::new(),
            requires: Vec::new(),
            entry_points: None,
            symlinks: Vec::new(),
            record_override: None,
            skip_record: Vec::new(),
            tampered: Vec::new(),
        }
    }

    pub fn tag(mut self, tag: &str) -> Self {
        self.tag = tag.to_string();
        self
    }

    pub fn file(mut self, path: &str, content: &str) -> Self {
        self.files
            .push((path.to_string(), content.as_bytes().to_vec()));
        self
    }

    pub fn requires(mut self, req: &str) -> Self {
        self.requires.push(req.to_string());
        self
    }

    pub fn entry_points(mut self, text: &str) -> Self {
        self.entry_points = Some(text.to_string());
        self
    }

    /// Adds a symbolic link entry (forbidden in wheels).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.symlinks.push((path.to_string(), target.to_string()));
        self
    }

    /// Replaces the computed RECORD text.
    pub fn record(mut self, text: &str) -> Self {
        self.record_override = Some(text.to_string());
        self
    }

    /// Leaves `path` out of RECORD.
    pub fn unrecorded(mut self, path: &str) -> Self {
        self.skip_record.push(path.to_string());
        self
    }

    /// Records a wrong digest for `path` in RECORD.
    pub fn tamper(mut self, path: &str) -> Self {
        self.tampered.push(path.to_string());
        self
    }

    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", self.name.replace('-', "_"), self.version)
    }

    pub fn filename(&self) -> String {
        format!(
            "{}-{}-{}.whl",
            self.name.replace('-', "_"),
            self.version,
            self.tag
        )
    }

    /// Writes the wheel into `dir` and returns its path.
    pub fn build(self, dir: &Path) -> PathBuf {
        let di = self.dist_info();
        let mut files = self.files.clone();
        let mut metadata = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        for r in &self.requires {
            metadata.push_str(&format!("Requires-Dist: {r}\n"));
        }
        files.push((format!("{di}/METADATA"), metadata.into_bytes()));
        files.push((
            format!("{di}/WHEEL"),
            format!(
                "Wheel-Version: 1.0\nGenerator: pyzap-tests\nRoot-Is-Purelib: true\nTag: {}\n",
                self.tag
            )
            .into_bytes(),
        ));
        if let Some(ep) = &self.entry_points {
            files.push((format!("{di}/entry_points.txt"), ep.clone().into_bytes()));
        }
        let record = self.record_override.clone().unwrap_or_else(|| {
            let mut r = String::new();
            for (p, data) in &files {
                if self.skip_record.contains(p) {
                    continue;
                }
                let mut digest = data_encoding::BASE64URL_NOPAD.encode(&sha2::Sha256::digest(data));
                if self.tampered.contains(p) {
                    digest = "A".repeat(digest.len());
                }
                r.push_str(&format!("{p},sha256={digest},{}\n", data.len()));
            }
            r.push_str(&format!("{di}/RECORD,,\n"));
            r
        });
        files.push((format!("{di}/RECORD"), record.into_bytes()));
        let path = dir.join(self.filename());
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
        let opts = SimpleFileOptions::default().unix_permissions(0o644);
        for (p, data) in &files {
            zip.start_file(p.as_str(), opts).unwrap();
            zip.write_all(data).unwrap();
        }
        for (p, target) in &self.symlinks {
            zip.add_symlink(p.as_str(), target.as_str(), opts).unwrap();
        }
        zip.finish().unwrap();
        path
    }
}

/// Hex SHA-256 of a file, to compare with what pyzap reports.
pub fn sha256_file(path: &Path) -> String {
    let data = fs_err::read(path).unwrap();
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&data))
}
