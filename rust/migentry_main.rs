// SPDX-License-Identifier: GPL-2.0

//! migentry: typed migration-entry restore, checked against the kernel through `/dev/migentry`.
//!
//! The crate is split into an abstraction layer that holds every `unsafe` block and every call
//! into the C shim (`ffi`, `layout`, `uapi`, `pte`, `softleaf`, `vma`, `pte_slot`, `reference`),
//! and logic
//! built on it that holds none (`restore`, `device`, the tests).

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

mod device;
mod ffi;
mod layout;
mod ops;
mod pte;
mod pte_slot;
mod reference;
mod restore;
mod restore_test;
mod softleaf;
mod uapi;
mod vma;

module! {
    type: MigentryModule,
    name: "migentry",
    authors: ["migentry developers"],
    description: "Typed migration-entry restore and /dev/migentry test device",
    license: "GPL",
}

#[pin_data]
struct MigentryModule {
    #[pin]
    _miscdev: MiscDeviceRegistration<device::Migentry>,
}

impl kernel::InPlaceModule for MigentryModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(|| {
            ffi::init();
            layout::check()?;
            let options = MiscDeviceOptions { name: c"migentry" };
            Ok(try_pin_init!(Self {
                _miscdev <- MiscDeviceRegistration::register(options),
            }))
        })
    }
}
