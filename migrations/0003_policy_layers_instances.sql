CREATE TABLE "policy_config_layers" (
	"version" integer PRIMARY KEY NOT NULL,
	"instance" text NOT NULL,
	"file" text NOT NULL,
	"digest" text NOT NULL,
	"layer" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "policy_versions" ADD COLUMN "instance" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "refusals" ADD COLUMN "instance" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "retrievals" ADD COLUMN "instance" text DEFAULT '' NOT NULL;