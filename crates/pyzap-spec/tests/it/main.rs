//! Integration tests of pyzap-spec's public parsers: property tests that no
//! text makes them panic and that what they write reads back the same.

mod properties;
