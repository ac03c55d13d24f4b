//! Reading and validating wheels (PEP 427): safe entry paths, no symlinks,
//! RECORD hashes checked, `.data/` schemes mapped; then deciding where each
//! file goes in the artifact's site tree (zipped or extracted at run time).

mod error;
mod layout;
mod record;
mod wheel;

pub use error::WheelError;
pub use layout::{layout_wheel, InstalledDist, Placement, SiteFile, SiteSource};
pub use wheel::{Scheme, Wheel, WheelEntry};
