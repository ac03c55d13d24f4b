//! Reading and validating wheels (PEP 427): safe, creatable entry names, no
//! symlinks, WHEEL and METADATA checked against the file name, RECORD hashes
//! streamed and checked, `.data/` schemes mapped; then deciding where each
//! file goes in the artifact's site tree (zipped or extracted at run time).

mod dist_info;
mod error;
mod layout;
mod names;
mod record;
mod verify;
mod wheel;

pub use dist_info::MAX_METADATA_BYTES;
pub use error::WheelError;
pub use layout::{
    check_site_clashes, layout_wheel, InstalledDist, Placement, SiteFile, SiteSource,
};
pub use names::{MAX_COMPONENT_BYTES, MAX_DEPTH, MAX_PATH_BYTES, MAX_SOURCE_NAME_BYTES};
pub use record::{parse_record, RecordEntry};
pub use wheel::{Scheme, Wheel, WheelEntry};
