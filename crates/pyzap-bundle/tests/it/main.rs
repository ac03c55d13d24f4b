//! Integration tests of `pyzap-bundle`: the index provider over a real
//! index client and a local index serving ../shared/wheelhouse.

mod index;
