#!/usr/bin/env node
import { createCofferApp } from '../lib/app';

createCofferApp().app.synth();
