DROP INDEX "retrieval_candidates_retrieval_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "refusals_natural_key" ON "refusals" USING btree ("cid_key","peer","at","reason");--> statement-breakpoint
CREATE UNIQUE INDEX "retrieval_candidates_natural_key" ON "retrieval_candidates" USING btree ("retrieval_id","source","provider","at");