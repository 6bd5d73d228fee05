CREATE TABLE "paych_channels" (
	"address" text PRIMARY KEY NOT NULL,
	"id_address" text NOT NULL,
	"from_address" text NOT NULL,
	"to_address" text NOT NULL,
	"next_lane" integer DEFAULT 0 NOT NULL,
	"funded" numeric(78, 0) DEFAULT '0' NOT NULL,
	"settling_at" bigint,
	"collected_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "paych_lanes" (
	"channel" text NOT NULL,
	"lane" integer NOT NULL,
	"provider" text NOT NULL,
	"nonce" bigint DEFAULT 0 NOT NULL,
	"amount" numeric(78, 0) DEFAULT '0' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "paych_lanes_channel_lane_pk" PRIMARY KEY("channel","lane")
);
--> statement-breakpoint
CREATE TABLE "paych_vouchers" (
	"channel" text NOT NULL,
	"lane" integer NOT NULL,
	"nonce" bigint NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"delta" numeric(78, 0) NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "miner_configs" ADD COLUMN "max_price_per_byte" text;--> statement-breakpoint
ALTER TABLE "miner_configs" ADD COLUMN "max_unseal_price" text;--> statement-breakpoint
ALTER TABLE "miner_configs" ADD COLUMN "max_retrieval_cost" text;--> statement-breakpoint
CREATE INDEX "paych_channels_from_to_idx" ON "paych_channels" USING btree ("from_address","to_address");--> statement-breakpoint
CREATE UNIQUE INDEX "paych_vouchers_lane_nonce_idx" ON "paych_vouchers" USING btree ("channel","lane","nonce");--> statement-breakpoint
CREATE INDEX "paych_vouchers_at_idx" ON "paych_vouchers" USING btree ("at");