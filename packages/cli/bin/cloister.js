#!/usr/bin/env node
// A checked-in launcher, so npm can link the `cloister` command at install time, before the
// TypeScript build (the `prepare` step) has produced dist/.
import "../dist/main.js";
