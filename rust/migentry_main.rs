// SPDX-License-Identifier: GPL-2.0

//! migentry: typed migration-entry restore, checked against the kernel through `/dev/migentry`.
//!
//! The crate has four layers, each a directory (see `docs/design.md`):
//!
//! - [`mm`]: safe types over page-table entries, migration entries, VMAs, PTE slots, folios and
//!   the TLB; it owns every block the compiler cannot check and every call into C;
//! - [`restore`]: the typed migration-entry restore, built on `mm` alone;
//! - [`reference`]: the C reference restores, oracles for the tests and the device's records;
//! - [`device`]: `/dev/migentry`, its ioctls and uapi, in safe Rust only and without FFI.
//!
//! [`reference`]: mod@reference

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

mod device;
mod mm;
mod reference;
mod restore;

module! {
    type: MigentryModule,
    name: "migentry",
    authors: ["migentry developers"],
    description: "Typed migration-entry restore and /dev/migentry test device",
    license: "GPL",
    params: {
        hook: bool {
            default: true,
            description: "Register the typed restore as the kernel's migration restore hook, where the kernel has one (the hooked variant)",
        },
        bench_restores: u32 {
            default: 0,
            description: "KUnit restore-cost benchmark (migentry_restore_cost): restores per side and round, at least one pass over its mix (0: one pass)",
        },
        bench_rounds: u32 {
            default: 1,
            description: "KUnit restore-cost benchmark: measured rounds after the warm-up round (at least 1)",
        },
    },
}

#[pin_data]
struct MigentryModule {
    #[pin]
    _miscdev: MiscDeviceRegistration<device::Migentry>,
    /// The typed restore as the kernel's migration restore hook; unregistered on unload.
    _hook: Option<mm::hook::Registration<restore::hook::TypedHook>>,
}

impl kernel::InPlaceModule for MigentryModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(|| {
            mm::init()?;
            let hook = if module_parameters::hook.value() && mm::hook::available() {
                let h = mm::hook::Registration::register()?;
                pr_info!("typed restore registered as the migration restore hook\n");
                Some(h)
            } else {
                None
            };
            let options = MiscDeviceOptions { name: c"migentry" };
            Ok(try_pin_init!(Self {
                _miscdev <- MiscDeviceRegistration::register(options),
                _hook: hook,
            }))
        })
    }
}
