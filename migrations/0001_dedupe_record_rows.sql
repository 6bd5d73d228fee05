-- Custom migration: before 0002 makes (retrieval_id, source, provider, at) and
-- (cid_key, peer, at, reason) unique, drop duplicates a retried batch may have left.
DELETE FROM "retrieval_candidates" a USING "retrieval_candidates" b
WHERE a."id" > b."id" AND a."retrieval_id" = b."retrieval_id" AND a."source" = b."source"
  AND a."provider" = b."provider" AND a."at" = b."at";
--> statement-breakpoint
DELETE FROM "refusals" a USING "refusals" b
WHERE a."id" > b."id" AND a."cid_key" = b."cid_key" AND a."peer" = b."peer"
  AND a."at" = b."at" AND a."reason" = b."reason";
