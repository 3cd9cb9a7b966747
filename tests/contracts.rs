//! Contracts (stage 6, render): tsc validity, measurement, example coverage, goldens.
