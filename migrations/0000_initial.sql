CREATE TABLE "miner_configs" (
	"provider" text PRIMARY KEY NOT NULL,
	"retrieval_timeout_ms" bigint,
	"max_concurrent_retrievals" integer,
	"max_bytes_per_second" bigint,
	"state" text NOT NULL,
	"version" integer NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_entries" (
	"list" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"version" integer NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policy_entries_list_key_pk" PRIMARY KEY("list","key")
);
--> statement-breakpoint
CREATE TABLE "policy_versions" (
	"version" serial PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"origin" text NOT NULL,
	"reason" text,
	"summary" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refusals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"cid" text NOT NULL,
	"cid_key" text NOT NULL,
	"peer" text NOT NULL,
	"reason" text NOT NULL,
	"policy_version" integer NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retrieval_attempts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"retrieval_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"protocol" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"connected_at" timestamp with time zone,
	"first_byte_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"bytes" bigint NOT NULL,
	"blocks" integer NOT NULL,
	"outcome" text NOT NULL,
	"error_class" text,
	"error_message" text
);
--> statement-breakpoint
CREATE TABLE "retrieval_candidates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"retrieval_id" uuid NOT NULL,
	"source" text NOT NULL,
	"provider" text NOT NULL,
	"protocols" jsonb NOT NULL,
	"addrs" jsonb NOT NULL,
	"verdict" text NOT NULL,
	"reason" text,
	"policy_version" integer NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retrievals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"root_cid" text DEFAULT '' NOT NULL,
	"root_key" text DEFAULT '' NOT NULL,
	"requested_cid" text DEFAULT '' NOT NULL,
	"requested_key" text DEFAULT '' NOT NULL,
	"requested_by" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"policy_version" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"reason" text,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"blocks" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "miner_configs_version_idx" ON "miner_configs" USING btree ("version");--> statement-breakpoint
CREATE INDEX "refusals_cid_key_idx" ON "refusals" USING btree ("cid_key","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "retrieval_attempts_retrieval_idx" ON "retrieval_attempts" USING btree ("retrieval_id");--> statement-breakpoint
CREATE INDEX "retrieval_attempts_provider_idx" ON "retrieval_attempts" USING btree ("provider");--> statement-breakpoint
CREATE INDEX "retrieval_candidates_retrieval_idx" ON "retrieval_candidates" USING btree ("retrieval_id");--> statement-breakpoint
CREATE INDEX "retrieval_candidates_provider_idx" ON "retrieval_candidates" USING btree ("provider");--> statement-breakpoint
CREATE INDEX "retrievals_started_idx" ON "retrievals" USING btree ("started_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "retrievals_root_key_idx" ON "retrievals" USING btree ("root_key");--> statement-breakpoint
CREATE INDEX "retrievals_requested_key_idx" ON "retrievals" USING btree ("requested_key");--> statement-breakpoint
CREATE INDEX "retrievals_status_idx" ON "retrievals" USING btree ("status");