/** The connectors' build step after tsc: dist/catalogue.json from catalogue/*.yaml, checked (catalogue.ts). */
import { writeBuiltCatalogue } from './catalogue';

writeBuiltCatalogue();
