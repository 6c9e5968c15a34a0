//! What the modules use from `alloc` (the standard prelude's share of it), so the crate reads the
//! same in the lean module, which is `no_std`, and with `std`.

pub(crate) use alloc::borrow::ToOwned;
pub(crate) use alloc::string::String;
pub(crate) use alloc::vec::Vec;
