//! The one timestamp reproducible outputs carry (reproducible-builds.org's
//! `SOURCE_DATE_EPOCH`), and its default.

/// 1980-01-01T00:00:00Z, the earliest time a zip entry can hold: the stamp
/// when `SOURCE_DATE_EPOCH` is not set.
pub const ZIP_EPOCH: u64 = 315_532_800;

/// `SOURCE_DATE_EPOCH` (seconds since 1970) when it is set to a number, else
/// [`ZIP_EPOCH`].
pub fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(ZIP_EPOCH)
}
