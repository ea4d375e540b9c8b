#!/usr/bin/env node
// The compiled CLI lives in dist/ (npm run build); this shim keeps the bin path stable.
require('../dist/cli/main.js');
